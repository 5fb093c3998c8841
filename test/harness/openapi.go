package harness

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/helpers"
)

// validators are built once per document: services of one test binary
// serve the same one.
var validators sync.Map // sha256 of the document → func() (validator.Validator, error)

// documentValidator returns the validator of the OpenAPI document a
// service serves.
func documentValidator(document []byte) (validator.Validator, error) {
	build, _ := validators.LoadOrStore(sha256.Sum256(document), sync.OnceValues(func() (validator.Validator, error) {
		doc, err := libopenapi.NewDocument(document)
		if err != nil {
			return nil, err
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			return nil, fmt.Errorf("OpenAPI validator: %v", errs)
		}
		return v, nil
	}))
	return build.(func() (validator.Validator, error))()
}

// conformance checks every answer a Service's clients receive against the
// OpenAPI document and keeps what does not conform; StartService fails the
// test with it at the end.
type conformance struct {
	base     http.RoundTripper
	document []byte // set once the service serves it
	mu       sync.Mutex
	wrong    []string
}

func (c *conformance) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	copied := *resp
	copied.Body = io.NopCloser(bytes.NewReader(body))

	v, err := documentValidator(c.document)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.wrong = append(c.wrong, err.Error())
		return resp, nil
	}
	ok, problems := v.ValidateHttpResponse(req, &copied)
	// Headers a client expects: a content type on every answer, and where
	// to find what a 201 created.
	if resp.Header.Get("Content-Type") == "" && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotModified {
		c.wrong = append(c.wrong, fmt.Sprintf("%s %s → %d: no Content-Type", req.Method, req.URL.Path, resp.StatusCode))
	}
	if resp.StatusCode == http.StatusCreated && !locates(resp.Header.Get("Location"), req.URL.Path, body) {
		c.wrong = append(c.wrong, fmt.Sprintf("%s %s → 201: Location %q does not name the new resource", req.Method, req.URL.Path, resp.Header.Get("Location")))
	}
	if ok {
		return resp, nil
	}
	for _, p := range problems {
		// Requests for routes that do not exist (404/405 tests) have no
		// operation to check against.
		if p.ValidationType == helpers.PathValidation &&
			(p.ValidationSubType == helpers.ValidationMissing || p.ValidationSubType == helpers.ValidationMissingOperation) {
			continue
		}
		c.wrong = append(c.wrong, fmt.Sprintf("%s %s → %d: %s (%s) body %.300s", req.Method, req.URL.Path, resp.StatusCode, p.Message, p.Reason, body))
	}
	return resp, nil
}

// locates reports whether location is the path of the resource in body,
// created by a POST to collection. A new session (a sign-in's answer names
// it session_id) is located where the admin endpoints read it.
func locates(location, collection string, body []byte) bool {
	var created struct {
		ID        string `json:"id"`
		SessionID string `json:"session_id"`
	}
	if json.Unmarshal(body, &created) == nil && created.ID == "" && created.SessionID != "" {
		return location == "/v1/identity-sessions/"+created.SessionID
	}
	return json.Unmarshal(body, &created) == nil && created.ID != "" && location == collection+"/"+created.ID
}
