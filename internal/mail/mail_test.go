package mail

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/mail/mailtest"
)

// TestSMTPDelivers: a Chinese subject and body reach a real relay intact, with login when the
// relay asks for one, and a refused login is an error.
func TestSMTPDelivers(t *testing.T) {
	msg := Message{To: "王秀兰 <wxl@example.org>", Subject: "重设密码 · 石嘴山数字文化云\r\nBcc: evil@example.org",
		Body: "请打开下面的链接重设密码：\nhttp://127.0.0.1:8080/password-reset/new#token=abc\n" + strings.Repeat("长文本", 40)}
	tests := []struct {
		name, relayPassword, password string
		wantErr                       bool
	}{
		{"open relay on this machine", "", "", false},
		{"relay with login", "s3cret", "s3cret", false},
		{"wrong password", "s3cret", "nope", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mailtest.Start(t, tt.relayPassword)
			user := ""
			if tt.password != "" {
				user = "culturecloud"
			}
			s := SMTP{Addr: r.Addr, From: "石嘴山数字文化云 <noreply@example.org>", Username: user, Password: tt.password, Timeout: 10 * time.Second}
			err := s.Send(t.Context(), msg)
			if tt.wantErr {
				if err == nil {
					t.Fatal("Send succeeded with a wrong password")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := r.Messages()
			if len(got) != 1 {
				t.Fatalf("relay got %d messages", len(got))
			}
			m := got[0]
			if m.From != "noreply@example.org" || m.To != "wxl@example.org" || m.User != user {
				t.Fatalf("envelope %q → %q as %q", m.From, m.To, m.User)
			}
			if !strings.HasPrefix(m.Subject, "重设密码 · 石嘴山数字文化云") {
				t.Fatalf("subject %q", m.Subject)
			}
			if m.Header.Get("Bcc") != "" {
				t.Fatal("a line break in the subject became a header")
			}
			if want := strings.ReplaceAll(msg.Body, "\n", "\r\n"); m.Body != want {
				t.Fatalf("body %q, want %q", m.Body, want)
			}
		})
	}
}

func TestSMTPRelayDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = SMTP{Addr: addr, From: "noreply@example.org"}.Send(ctx, Message{To: "a@example.org", Subject: "x", Body: "y"})
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Send to a closed port = %v", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "127.8.0.1": true,
		"mail.example.org": false, "10.0.0.1": false, "": false} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v", host, got)
		}
	}
}

func TestLoggerLogsTheLink(t *testing.T) {
	var buf bytes.Buffer
	l := Logger{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := l.Send(t.Context(), Message{To: "a@example.org", Subject: "重设密码", Body: "http://127.0.0.1/password-reset/new#token=xyz"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "token=xyz") {
		t.Fatalf("log %q lacks the link", buf.String())
	}
}
