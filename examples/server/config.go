package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/transport"
)

// config is the server's configuration, read from the environment.
type config struct {
	databaseURL          string
	bind                 string
	httpPort             int
	grpcPort             int
	riverUIPort          int // -1: off
	riverUIBind          string
	apiKeys              []transport.APIKey
	tlsCertFile          string
	tlsKeyFile           string
	allowPrivateNetworks bool
	logLevel             slog.Level
	shutdownTimeout      time.Duration
	maxRequestBytes      int                 // 0: transport.MaxRequestBytesDefault
	secretKeys           []sparrow.SecretKey // the first seals; none: secrets stored in the clear
	allowedOrigins       []string            // besides the server's own
	allowedHosts         []string            // besides loopback names, without API keys
	portalSecret         []byte              // nil: no portal tokens
}

// configFromEnv reads the configuration; getenv is os.Getenv outside tests.
func configFromEnv(getenv func(string) string) (config, error) {
	cfg := config{
		databaseURL:     getenv("DATABASE_URL"),
		bind:            getenv("SPARROW_BIND"),
		httpPort:        8080,
		grpcPort:        50051,
		riverUIPort:     8082,
		riverUIBind:     "127.0.0.1",
		tlsCertFile:     getenv("SPARROW_TLS_CERT_FILE"),
		tlsKeyFile:      getenv("SPARROW_TLS_KEY_FILE"),
		shutdownTimeout: 30 * time.Second,
	}
	var problems []error
	port := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				problems = append(problems, fmt.Errorf("%s=%q: want a port number", name, v))
				return
			}
			*dst = n
		}
	}
	port("HTTP_PORT", &cfg.httpPort)
	port("GRPC_PORT", &cfg.grpcPort)
	if getenv("RIVER_UI_PORT") == "off" {
		cfg.riverUIPort = -1
	} else {
		port("RIVER_UI_PORT", &cfg.riverUIPort)
	}
	if v := getenv("RIVER_UI_BIND"); v != "" {
		cfg.riverUIBind = v
	}
	if key := getenv("SPARROW_API_KEY"); key != "" {
		cfg.apiKeys = append(cfg.apiKeys, transport.APIKey{Key: key})
	}
	// SPARROW_API_KEYS adds keys limited to namespaces: "key1:ns1,ns2 key2:ns3".
	for _, entry := range strings.Fields(getenv("SPARROW_API_KEYS")) {
		key, namespaces, ok := strings.Cut(entry, ":")
		if !ok || key == "" || namespaces == "" {
			problems = append(problems, fmt.Errorf("SPARROW_API_KEYS: %q is not key:namespace[,namespace...]", entry))
			continue
		}
		cfg.apiKeys = append(cfg.apiKeys, transport.APIKey{Key: key, Namespaces: strings.Split(namespaces, ",")})
	}
	for i, k := range cfg.apiKeys {
		if err := k.Validate(); err != nil {
			name := "SPARROW_API_KEYS"
			if i == 0 && getenv("SPARROW_API_KEY") != "" {
				name = "SPARROW_API_KEY"
			}
			problems = append(problems, fmt.Errorf("%s: %w", name, err))
		}
	}
	if (cfg.tlsCertFile == "") != (cfg.tlsKeyFile == "") {
		problems = append(problems, errors.New("SPARROW_TLS_CERT_FILE and SPARROW_TLS_KEY_FILE go together"))
	}
	if v := getenv("SPARROW_ALLOW_PRIVATE_NETWORKS"); v != "" {
		allow, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("SPARROW_ALLOW_PRIVATE_NETWORKS=%q: want true or false", v))
		}
		cfg.allowPrivateNetworks = allow
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := cfg.logLevel.UnmarshalText([]byte(v)); err != nil {
			problems = append(problems, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
	}
	if v := getenv("SPARROW_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Errorf("SPARROW_SHUTDOWN_TIMEOUT=%q: want a duration like 30s", v))
		}
		cfg.shutdownTimeout = d
	}
	if v := getenv("SPARROW_MAX_REQUEST_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			problems = append(problems, fmt.Errorf("SPARROW_MAX_REQUEST_BYTES=%q: want a positive number of bytes", v))
		}
		cfg.maxRequestBytes = n
	}
	cfg.allowedOrigins = list(getenv("SPARROW_ALLOWED_ORIGINS"))
	for _, origin := range cfg.allowedOrigins {
		if u, err := url.Parse(origin); origin != "*" && (err != nil || u.Scheme == "" || u.Host == "" || u.Path != "") {
			problems = append(problems, fmt.Errorf("SPARROW_ALLOWED_ORIGINS: %q is not an origin like https://app.example.com", origin))
		}
	}
	cfg.allowedHosts = list(getenv("SPARROW_ALLOWED_HOSTS"))
	keys, err := parseSecretKeys(getenv("SPARROW_SECRET_KEYS"))
	if err != nil {
		problems = append(problems, err)
	}
	cfg.secretKeys = keys
	if v := getenv("SPARROW_PORTAL_SECRET"); v != "" {
		if len(v) < transport.MinPortalSecretLength {
			// The value is a secret: not shown.
			problems = append(problems, fmt.Errorf("SPARROW_PORTAL_SECRET: shorter than %d characters (try: openssl rand -base64 32)", transport.MinPortalSecretLength))
		}
		cfg.portalSecret = []byte(v)
	}
	return cfg, errors.Join(problems...)
}

// list splits a variable's comma- or space-separated values.
func list(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
}

// transportOptions are the API's options: keys, and who may call from
// where. Without keys the API answers only requests addressed to loopback
// names (and SPARROW_ALLOWED_HOSTS), so that a web page can't reach a
// developer's open server through DNS rebinding.
func (cfg config) transportOptions(logger *slog.Logger) []transport.Option {
	opts := []transport.Option{
		transport.WithAPIKeys(cfg.apiKeys...), transport.WithLogger(logger), transport.WithMaxRequestBytes(cfg.maxRequestBytes),
		transport.WithAllowedOrigins(cfg.allowedOrigins...),
	}
	if cfg.portalSecret != nil {
		opts = append(opts, transport.WithPortalSecret(cfg.portalSecret))
	}
	switch {
	case len(cfg.apiKeys) == 0:
		opts = append(opts, transport.WithAllowedHosts(append([]string{transport.LoopbackHosts}, cfg.allowedHosts...)...))
	case len(cfg.allowedHosts) > 0:
		opts = append(opts, transport.WithAllowedHosts(cfg.allowedHosts...))
	}
	return opts
}

// parseSecretKeys reads SPARROW_SECRET_KEYS, "id:base64key,id:base64key":
// the first key seals new secrets, the others only open what they sealed,
// until re-sealing has moved every secret to the first. Errors name the
// entry by position and id, never show key material.
func parseSecretKeys(v string) ([]sparrow.SecretKey, error) {
	var keys []sparrow.SecretKey
	var problems []error
	for i, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, encoded, ok := strings.Cut(entry, ":")
		if !ok || id == "" {
			problems = append(problems, fmt.Errorf("SPARROW_SECRET_KEYS: entry %d is not id:base64key", i+1))
			continue
		}
		key, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(key) != 32 {
			problems = append(problems, fmt.Errorf("SPARROW_SECRET_KEYS: key %q is not 32 bytes in base64 (try: openssl rand -base64 32)", id))
			continue
		}
		keys = append(keys, sparrow.SecretKey{ID: id, Key: key})
	}
	return keys, errors.Join(problems...)
}
