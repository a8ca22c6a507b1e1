package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// healthcheck asks the server running beside it (on 127.0.0.1:HTTP_PORT)
// whether it is ready, for a container's health check: an image with
// nothing but the server has no curl.
func healthcheck(ctx context.Context, cfg config) error {
	scheme, client := "http", &http.Client{Timeout: 3 * time.Second}
	if cfg.tlsCertFile != "" {
		// The certificate names the service, not loopback; the check only
		// asks this process's own listener.
		scheme = "https"
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	url := scheme + "://127.0.0.1:" + strconv.Itoa(cfg.httpPort) + "/ready"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
