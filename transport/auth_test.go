package transport

import (
	"testing"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// TestProcedureCapabilities: every procedure of webhook.proto's services
// has its capability in procedureCapabilities (portal tokens may call none
// missing there), and the table names no procedure that is gone.
func TestProcedureCapabilities(t *testing.T) {
	t.Parallel()

	known := map[string]bool{}
	services := pb.File_proto_webhook_proto.Services()
	for i := range services.Len() {
		methods := services.Get(i).Methods()
		for j := range methods.Len() {
			md := methods.Get(j)
			procedure := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
			known[procedure] = true
			if _, ok := procedureCapabilities[procedure]; !ok {
				t.Errorf("%s has no capability in procedureCapabilities", procedure)
			}
		}
	}
	for procedure := range procedureCapabilities {
		if !known[procedure] {
			t.Errorf("procedureCapabilities lists %s, which webhook.proto does not define", procedure)
		}
	}
}

// TestCallerMayCall checks the table's use: which credential may call what.
func TestCallerMayCall(t *testing.T) {
	t.Parallel()

	readOnly := &caller{namespaces: []string{"a"}, capabilities: []Capability{CapabilityRead}, portal: true}
	manager := &caller{namespaces: []string{"a"}, capabilities: []Capability{CapabilityRead, CapabilityManageWebhooks}, portal: true}
	scoped := &caller{namespaces: []string{"a"}, capabilities: scopedCapabilities}
	tests := []struct {
		caller    *caller
		procedure string
		allowed   bool
	}{
		{readOnly, "/webhook.WebhookService/GetWebhook", true},
		{readOnly, "/webhook.HealthService/GetHealthSummary", true},
		{readOnly, "/webhook.SubscriptionService/TestFilter", true},
		{readOnly, "/webhook.WebhookService/RevealWebhookSecret", false},
		{readOnly, "/webhook.DeliveryService/RetryDelivery", false},
		{manager, "/webhook.WebhookService/RevealWebhookSecret", true},
		{manager, "/webhook.WebhookService/RecoverWebhook", true},
		{manager, "/webhook.DeliveryService/RetryFailedDeliveries", true},
		{manager, "/webhook.EventService/RepushEvent", false},
		{manager, "/webhook.EventService/UpdateEvent", false},
		{manager, "/webhook.NamespaceService/CreatePortalToken", false},
		{manager, "/webhook.FutureService/NotInTheTable", false},
		{scoped, "/webhook.EventService/PushEvents", true},
		{scoped, "/webhook.EventService/RegisterEvent", false},
		{scoped, "/webhook.NamespaceService/CreatePortalToken", false},
		{scoped, "/webhook.FutureService/NotInTheTable", true},
		{openCaller, "/webhook.NamespaceService/CreatePortalToken", true},
		{openCaller, "/webhook.EventService/RegisterEvent", true},
	}
	for _, tt := range tests {
		if err := tt.caller.mayCall(tt.procedure); (err == nil) != tt.allowed {
			t.Errorf("%s %v calling %s: %v, want allowed %v", tt.caller.kind(), tt.caller.capabilities, tt.procedure, err, tt.allowed)
		}
	}
}
