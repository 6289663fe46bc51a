package main

// A minimal Heat v1 client: Keystone v3 password auth (token and orchestration endpoint from the
// catalog, cached until shortly before expiry), the calls of docs/providers/heat.md that the twin
// needs, and a client-side token bucket per provider (StackProvider spec.rateLimit), as the operator.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

type heatCreds struct {
	spec     HeatSpec
	username string
	password string
}

type heatClient struct {
	creds   heatCreds
	http    *http.Client
	limiter *rate.Limiter

	mu       sync.Mutex
	token    string
	endpoint string
	expires  time.Time
}

type heatStack struct {
	ID           string `json:"id"`
	Name         string `json:"stack_name"`
	Status       string `json:"stack_status"`
	StatusReason string `json:"stack_status_reason"`
}

type httpError struct {
	op     string
	status int
	body   string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("heat %s: HTTP %d: %s", e.op, e.status, e.body)
}

func newHeatClient(c heatCreds, hc *http.Client, rl *RateLimit) *heatClient {
	lim := rate.NewLimiter(rate.Inf, 0)
	if rl != nil && rl.QPS > 0 {
		burst := rl.Burst
		if burst < 1 {
			burst = 1
		}
		lim = rate.NewLimiter(rate.Limit(rl.QPS), burst)
	}
	return &heatClient{creds: c, http: hc, limiter: lim}
}

// auth returns a valid token and the orchestration endpoint; one issue at a time under the lock.
func (h *heatClient) auth(ctx context.Context) (string, string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.token != "" && time.Until(h.expires) > 5*time.Minute {
		return h.token, h.endpoint, nil
	}
	s := h.creds.spec
	dom := func(n string) string {
		if n == "" {
			return "Default"
		}
		return n
	}
	project := map[string]any{"name": s.ProjectName, "domain": map[string]any{"name": dom(s.ProjectDomainName)}}
	if s.ProjectID != "" {
		project = map[string]any{"id": s.ProjectID}
	}
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": h.creds.username, "password": h.creds.password, "domain": map[string]any{"name": dom(s.UserDomainName)},
		}}},
		"scope": map[string]any{"project": project},
	}}
	base := strings.TrimRight(s.AuthURL, "/")
	if !strings.HasSuffix(base, "/v3") {
		base += "/v3"
	}
	res, data, err := h.do(ctx, "keystone.auth", http.MethodPost, base+"/auth/tokens", "", body)
	if err != nil {
		return "", "", err
	}
	var tok struct {
		Token struct {
			ExpiresAt time.Time `json:"expires_at"`
			Project   struct {
				ID string `json:"id"`
			} `json:"project"`
			Catalog []struct {
				Type      string `json:"type"`
				Endpoints []struct {
					Interface string `json:"interface"`
					Region    string `json:"region"`
					RegionID  string `json:"region_id"`
					URL       string `json:"url"`
				} `json:"endpoints"`
			} `json:"catalog"`
		} `json:"token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		return "", "", fmt.Errorf("keystone: %w", err)
	}
	iface := s.Interface
	if iface == "" {
		iface = "public"
	}
	endpoint := ""
	for _, svc := range tok.Token.Catalog {
		if svc.Type != "orchestration" {
			continue
		}
		for _, ep := range svc.Endpoints {
			if ep.Interface == iface && (s.Region == "" || ep.Region == s.Region || ep.RegionID == s.Region) {
				endpoint = ep.URL
			}
		}
	}
	if endpoint == "" {
		return "", "", fmt.Errorf("keystone: no orchestration endpoint for region %q", s.Region)
	}
	endpoint = strings.NewReplacer("%(tenant_id)s", tok.Token.Project.ID, "%(project_id)s", tok.Token.Project.ID).Replace(strings.TrimRight(endpoint, "/"))
	h.token, h.endpoint, h.expires = res.Header.Get("X-Subject-Token"), endpoint, tok.Token.ExpiresAt
	return h.token, h.endpoint, nil
}

func (h *heatClient) do(ctx context.Context, op, method, u, token string, body any) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	res, err := h.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode >= 300 {
		if res.StatusCode == http.StatusUnauthorized {
			h.mu.Lock()
			h.token = ""
			h.mu.Unlock()
		}
		return res, data, &httpError{op: op, status: res.StatusCode, body: string(data)}
	}
	return res, data, nil
}

// call is a rate-limited Heat request against the catalog endpoint.
func (h *heatClient) call(ctx context.Context, op, method, path string, body any) ([]byte, error) {
	token, endpoint, err := h.auth(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	_, data, err := h.do(ctx, op, method, endpoint+path, token, body)
	return data, err
}

// get reads a stack by name (Heat answers 302 to /stacks/{name}/{id}, followed by net/http) or by
// name and id; nil when it does not exist.
func (h *heatClient) get(ctx context.Context, name, id string) (*heatStack, error) {
	path := "/stacks/" + url.PathEscape(name)
	if id != "" {
		path += "/" + url.PathEscape(id)
	}
	data, err := h.call(ctx, "get", http.MethodGet, path, nil)
	if he, ok := err.(*httpError); ok && he.status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out struct {
		Stack heatStack `json:"stack"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("heat get: %w", err)
	}
	if out.Stack.Status == "DELETE_COMPLETE" {
		return nil, nil
	}
	return &out.Stack, nil
}

func stackBody(s *Stack, create bool) (map[string]any, error) {
	var tpl struct {
		Inline json.RawMessage `json:"inline"`
	}
	if err := json.Unmarshal(s.Spec.Template, &tpl); err != nil || len(tpl.Inline) == 0 {
		return nil, fmt.Errorf("the twin supports spec.template.inline only")
	}
	params := s.Spec.Parameters
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	b := map[string]any{"template": tpl.Inline, "parameters": params, "tags": "stackoperator.dev/uid=" + string(s.UID)}
	if create {
		b["stack_name"] = stackName(s)
	}
	return b, nil
}

func (h *heatClient) create(ctx context.Context, s *Stack) (string, error) {
	body, err := stackBody(s, true)
	if err != nil {
		return "", err
	}
	data, err := h.call(ctx, "create", http.MethodPost, "/stacks", body)
	if err != nil {
		return "", err
	}
	var out struct {
		Stack struct {
			ID string `json:"id"`
		} `json:"stack"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Stack.ID == "" {
		return "", fmt.Errorf("heat create: no stack id in %q", data)
	}
	return out.Stack.ID, nil
}

func (h *heatClient) update(ctx context.Context, s *Stack, id string) error {
	body, err := stackBody(s, false)
	if err != nil {
		return err
	}
	_, err = h.call(ctx, "update", http.MethodPut, "/stacks/"+url.PathEscape(stackName(s))+"/"+url.PathEscape(id), body)
	return err
}

func (h *heatClient) delete(ctx context.Context, s *Stack, id string) error {
	_, err := h.call(ctx, "delete", http.MethodDelete, "/stacks/"+url.PathEscape(stackName(s))+"/"+url.PathEscape(id), nil)
	if he, ok := err.(*httpError); ok && he.status == http.StatusNotFound {
		return nil
	}
	return err
}

func stackName(s *Stack) string {
	if s.Spec.StackName != "" {
		return s.Spec.StackName
	}
	return s.Name
}
