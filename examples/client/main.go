// Command client calls a running Sparrow server (examples/server) with the
// generated Go clients: Connect (HTTP/JSON or binary) on the HTTP port, and
// gRPC on the gRPC port. It registers an event type and a webhook pointing at
// a receiver it runs itself, pushes an event, and prints the delivery and the
// webhook's health.
//
//	SPARROW_ALLOW_PRIVATE_NETWORKS=true go run ./examples/server &   # the receiver is local
//	go run ./examples/client
//
// Environment: SPARROW_URL (default http://localhost:8080), SPARROW_GRPC_URL
// (default http://localhost:50051), SPARROW_API_KEY.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/proto/webhookpb/webhookpbconnect"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, os.Stdout,
		cmp.Or(os.Getenv("SPARROW_URL"), "http://localhost:8080"),
		cmp.Or(os.Getenv("SPARROW_GRPC_URL"), "http://localhost:50051"),
		os.Getenv("SPARROW_API_KEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// apiKey sends key, when set, as x-api-key on every call.
func apiKey(key string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if key != "" {
				req.Header().Set("X-Api-Key", key)
			}
			return next(ctx, req)
		}
	}))
}

func run(ctx context.Context, out io.Writer, httpURL, grpcURL, key string) error {
	received := make(chan string, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case received <- string(body):
		default:
		}
	}))
	defer receiver.Close()

	// Connect on the HTTP port: plain HTTP/1.1 is enough.
	events := webhookpbconnect.NewEventServiceClient(http.DefaultClient, httpURL, apiKey(key))
	webhooks := webhookpbconnect.NewWebhookServiceClient(http.DefaultClient, httpURL, apiKey(key))
	// gRPC on the gRPC port needs HTTP/2: h2c on a plaintext port.
	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	grpcHTTP := &http.Client{Transport: &http.Transport{Protocols: h2c}}
	deliveries := webhookpbconnect.NewDeliveryServiceClient(grpcHTTP, grpcURL, connect.WithGRPC(), apiKey(key))
	health := webhookpbconnect.NewHealthServiceClient(grpcHTTP, grpcURL, connect.WithGRPC(), apiKey(key))

	// A type of its own, so the README's curl examples, which register
	// order.created, work on the same server before or after it.
	_, err := events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.paid", Description: "Fires when an order is paid"})
	if err != nil && connect.CodeOf(err) != connect.CodeAlreadyExists {
		return fmt.Errorf("RegisterEvent: %w", err)
	}
	reg, err := webhooks.RegisterWebhook(ctx, &pb.RegisterWebhookRequest{
		Namespace: "default", Url: receiver.URL + "/webhooks", Events: []string{"order.paid"},
	})
	if err != nil {
		return fmt.Errorf("RegisterWebhook: %w", err)
	}
	fmt.Fprintf(out, "webhook %s registered (Connect), secret %s\n", reg.GetWebhookId(), reg.GetWebhookSecret())

	payload, err := structpb.NewStruct(map[string]any{"order_id": "ord_123", "total": 49.99})
	if err != nil {
		return err
	}
	push, err := events.PushEvent(ctx, &pb.PushEventRequest{
		Namespace: "default", Event: "order.paid", Payload: payload, TtlSeconds: 3600,
		Labels: map[string]string{"plan": "premium", "region": "us-east-1"},
	})
	if err != nil {
		return fmt.Errorf("PushEvent: %w", err)
	}
	fmt.Fprintf(out, "event %s pushed (Connect)\n", push.GetEventId())

	body, err := awaitDelivery(ctx, deliveries, reg.GetWebhookId(), received)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "receiver got %s\n", body)

	var list *pb.ListDeliveriesResponse
	for range 50 {
		if list, err = deliveries.ListDeliveries(ctx, &pb.ListDeliveriesRequest{WebhookId: reg.GetWebhookId(), Namespace: "default", Limit: 10}); err != nil {
			return fmt.Errorf("ListDeliveries: %w", err)
		}
		if len(list.GetDeliveries()) > 0 && list.GetDeliveries()[0].GetStatus() == "succeeded" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, d := range list.GetDeliveries() {
		fmt.Fprintf(out, "delivery %s: status=%s attempts=%d (gRPC)\n", d.GetId(), d.GetStatus(), d.GetAttemptCount())
	}
	h, err := health.GetWebhookHealth(ctx, &pb.GetWebhookHealthRequest{WebhookId: reg.GetWebhookId(), Namespace: "default"})
	if err != nil {
		return fmt.Errorf("GetWebhookHealth: %w", err)
	}
	fmt.Fprintf(out, "health: %s, success_rate=%.1f%% (gRPC)\n", h.GetHealthStatus(), h.GetSuccessRate())
	return nil
}

// awaitDelivery waits for the receiver to get the event, watching the
// delivery meanwhile: a server that refuses this machine's addresses (its
// default) says so in the first attempt, which is reported at once with
// the fix rather than after a wait.
func awaitDelivery(ctx context.Context, deliveries webhookpbconnect.DeliveryServiceClient, webhookID string, received <-chan string) (string, error) {
	timeout := time.After(15 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case body := <-received:
			return body, nil
		case <-tick.C:
			list, err := deliveries.ListDeliveries(ctx, &pb.ListDeliveriesRequest{WebhookId: webhookID, Namespace: "default", Limit: 1})
			if err != nil {
				return "", fmt.Errorf("ListDeliveries: %w", err)
			}
			if ds := list.GetDeliveries(); len(ds) > 0 && ds[0].GetLastErrorClass() == "blocked_destination" {
				return "", errors.New("the server refused to deliver to this example's receiver, which is local (blocked_destination): " +
					"start the server with SPARROW_ALLOW_PRIVATE_NETWORKS=true")
			}
		case <-timeout:
			return "", errors.New("nothing delivered in 15s: is the server's SPARROW_ALLOW_PRIVATE_NETWORKS=true? (the receiver is local)")
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}
