// The API keys the e2e server is started with.
export const adminKey = 'e2e-admin-key-0123456789';
export const scopedKey = 'e2e-scoped-key-0123456789';
export const scopedNamespace = 'team-a';
