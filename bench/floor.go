package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// newHTTPClient returns the floor's client: a clone of the default
// transport, as the SDK uses by default.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// floorRequest is the body the floor sends: the workspace chat request.
type floorRequest struct {
	Message string `json:"message"`
	Stream  bool   `json:"stream"`
}

// floorPost sends the floor's chat request to url and returns the 200
// response, whose body the caller must close.
func floorPost(ctx context.Context, hc *http.Client, url string, stream bool, accept string) (*http.Response, error) {
	b, err := json.Marshal(floorRequest{Message: "Hello", Stream: stream})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return resp, nil
}
