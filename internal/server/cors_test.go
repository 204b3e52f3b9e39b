package server

import "testing"

// TestOriginsAndFrameAncestors: live.allowed_origins and live.embed_origins as the answers
// use them: an exact origin, "*" for any, nothing for an empty setting or another site.
func TestOriginsAndFrameAncestors(t *testing.T) {
	tests := []struct {
		setting, origin, allow, ancestors string
	}{
		{"", "https://a.example.org", "", "'self'"},
		{"https://a.example.org, https://b.example.org", "https://b.example.org", "https://b.example.org", "'self' https://a.example.org https://b.example.org"},
		{"https://a.example.org", "https://a.example.org:8443", "", "'self' https://a.example.org"},
		{"https://a.example.org", "http://a.example.org", "", "'self' https://a.example.org"},
		{"https://a.example.org", "", "", "'self' https://a.example.org"},
		{" * ", "https://any.example.net", "*", "*"},
		{"*", "", "", "*"},
	}
	for _, tt := range tests {
		if got := parseOrigins(tt.setting).allow(tt.origin); got != tt.allow {
			t.Errorf("allowed %q, Origin %q: Access-Control-Allow-Origin %q, want %q", tt.setting, tt.origin, got, tt.allow)
		}
		if got := frameAncestors(tt.setting); got != tt.ancestors {
			t.Errorf("embed %q: frame-ancestors %q, want %q", tt.setting, got, tt.ancestors)
		}
	}
}
