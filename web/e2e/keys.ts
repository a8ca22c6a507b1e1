// The API keys the e2e server is started with.
export const adminKey = 'e2e-admin-key-0123456789';
export const scopedKey = 'e2e-scoped-key-0123456789';
export const scopedNamespace = 'team-a';
// The secret portal tokens are signed with (32 bytes or more): the tests
// sign tokens of their own with it, already expired ones for instance.
export const portalSecret = 'e2e-portal-secret-0123456789abcdef0123456789';
