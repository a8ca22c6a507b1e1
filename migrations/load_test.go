package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	t.Parallel()

	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string
	}{
		{
			name: "Valid",
			fsys: fstest.MapFS{
				"001_a.up.sql": file("up1"), "001_a.down.sql": file("down1"),
				"002_b.up.sql": file("up2"), "002_b.down.sql": file("down2"),
			},
		},
		{
			name: "Gap",
			fsys: fstest.MapFS{
				"001_a.up.sql": file("up1"), "001_a.down.sql": file("down1"),
				"003_c.up.sql": file("up3"), "003_c.down.sql": file("down3"),
			},
			wantErr: "version 002 is missing",
		},
		{
			name: "Duplicate",
			fsys: fstest.MapFS{
				"001_a.up.sql": file("up1"), "001_a.down.sql": file("down1"),
				"001_b.up.sql": file("up1b"), "001_b.down.sql": file("down1b"),
			},
			wantErr: "appears twice",
		},
		{
			name:    "MissingDown",
			fsys:    fstest.MapFS{"001_a.up.sql": file("up1")},
			wantErr: "needs both an up and a down file",
		},
		{
			name:    "BadName",
			fsys:    fstest.MapFS{"1_a.sql": file("x")},
			wantErr: "unexpected file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := load(tt.fsys)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 2 || got[0].Version != 1 || got[1].SQLDown != "down2" {
					t.Fatalf("load = %+v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("load error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	t.Parallel()

	migrations, err := load(FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		if !strings.Contains(m.SQLUp, "/*schema*/") {
			t.Errorf("version %03d: table names must carry the /*schema*/ marker", m.Version)
		}
	}
}
