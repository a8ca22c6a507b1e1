package sparrow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/event"
)

func TestRegisterEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("Success", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		got, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Description: "Fires when a new order is placed"})
		if err != nil {
			t.Fatal(err)
		}
		want := &event.Type{Name: "order.created", Description: "Fires when a new order is placed", Active: true}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(event.Type{}, "CreatedAt", "UpdatedAt")); diff != "" {
			t.Fatalf("registered (-want +got):\n%s", diff)
		}
		stored, err := b.eng.GetEventType(ctx, "order.created")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, stored); diff != "" {
			t.Fatalf("stored (-registered +stored):\n%s", diff)
		}
	})

	t.Run("Inactive", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		got, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "user.deleted", Inactive: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.Active {
			t.Fatal("registered with Inactive but Active")
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		_, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Description: "again"})
		wantErr(t, err, sparrow.ErrAlreadyExists)
		got, err := b.eng.GetEventType(ctx, "order.created")
		if err != nil {
			t.Fatal(err)
		}
		if got.Description != "" {
			t.Fatal("a refused duplicate changed the stored type")
		}
	})

	t.Run("InvalidInput", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		tests := []struct {
			name  string
			p     sparrow.RegisterEventTypeParams
			field string
		}{
			{"EmptyName", sparrow.RegisterEventTypeParams{}, "name"},
			{"NameTooLong", sparrow.RegisterEventTypeParams{Name: strings.Repeat("a", 129)}, "name"},
			{"NameWithSpace", sparrow.RegisterEventTypeParams{Name: "order created"}, "name"},
			{"NameWithSlash", sparrow.RegisterEventTypeParams{Name: "order/created"}, "name"},
			{"NameNonASCII", sparrow.RegisterEventTypeParams{Name: "commande.créée"}, "name"},
			{"DescriptionNUL", sparrow.RegisterEventTypeParams{Name: "a", Description: "x\x00y"}, "description"},
			{"DescriptionInvalidUTF8", sparrow.RegisterEventTypeParams{Name: "a", Description: "\xff"}, "description"},
			{"DescriptionTooLong", sparrow.RegisterEventTypeParams{Name: "a", Description: strings.Repeat("x", 1025)}, "description"},
		}
		for _, tt := range tests {
			_, err := b.eng.RegisterEventType(ctx, tt.p)
			t.Run(tt.name, func(t *testing.T) { wantInvalid(t, err, tt.field) })
		}
		if n := b.countUserEventTypes(t); n != 0 {
			t.Fatalf("refused input wrote %d event types", n)
		}
	})

	t.Run("LongestName", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		if _, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: strings.Repeat("a", 128)}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestGetEventType(t *testing.T) {
	t.Parallel()

	b := setup(t)
	_, err := b.eng.GetEventType(context.Background(), "missing.type")
	wantErr(t, err, sparrow.ErrNotFound)
	_, err = b.eng.GetEventType(context.Background(), "bad name")
	wantInvalid(t, err, "name")
}

func TestListEventTypes(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	names := []string{"a.one", "b.two", "c.three", "d.four", "e.five"}
	b.registerEvent(t, names...)
	if _, err := b.eng.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "c.three", Active: ptr(false)}); err != nil {
		t.Fatal(err)
	}

	// Sparrow's own types (sparrow.*) are listed too, after these.
	names = append(names, event.TypeDeliveryExhausted, event.TypeWebhookDisabled, event.TypeWebhookStateChanged)

	t.Run("Paginated", func(t *testing.T) {
		var got []string
		cursor := ""
		for range 10 {
			page, err := b.eng.ListEventTypes(ctx, sparrow.ListEventTypesParams{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, et := range page.Items {
				got = append(got, et.Name)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if diff := cmp.Diff(names, got); diff != "" {
			t.Fatalf("names over pages (-want +got):\n%s", diff)
		}
	})

	t.Run("ActiveOnly", func(t *testing.T) {
		page, err := b.eng.ListEventTypes(ctx, sparrow.ListEventTypesParams{ActiveOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 7 || page.NextCursor != "" {
			t.Fatalf("active types: %+v", page)
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		_, err := b.eng.ListEventTypes(ctx, sparrow.ListEventTypesParams{Limit: 101})
		wantInvalid(t, err, "limit")
		_, err = b.eng.ListEventTypes(ctx, sparrow.ListEventTypesParams{Limit: -1})
		wantInvalid(t, err, "limit")
		_, err = b.eng.ListEventTypes(ctx, sparrow.ListEventTypesParams{Cursor: "!!not a cursor!!"})
		wantInvalid(t, err, "cursor")
	})
}

func TestUpdateEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")

	got, err := b.eng.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "order.created", Active: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Active {
		t.Fatal("still active after deactivation")
	}
	got, err = b.eng.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "order.created", Description: ptr("new words")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Active || got.Description != "new words" {
		t.Fatalf("a description update touched other fields: %+v", got)
	}
	if !got.UpdatedAt.After(got.CreatedAt) {
		t.Fatalf("UpdatedAt %v not after CreatedAt %v", got.UpdatedAt, got.CreatedAt)
	}

	_, err = b.eng.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "missing.type", Active: ptr(true)})
	wantErr(t, err, sparrow.ErrNotFound)
	_, err = b.eng.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "order.created", Description: ptr("\x00")})
	wantInvalid(t, err, "description")
}

func TestRegisterEventTx(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.RegisterEventTypeTx(ctx, tx, sparrow.RegisterEventTypeParams{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = b.eng.GetEventType(ctx, "order.created")
	wantErr(t, err, sparrow.ErrNotFound)

	if _, err := b.eng.RegisterEventTypeTx(ctx, nil, sparrow.RegisterEventTypeParams{Name: "order.created"}); err == nil {
		t.Fatal("a nil tx was accepted")
	}
}
