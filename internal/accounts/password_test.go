package accounts_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/accounts"
)

// fastHasher keeps -race runs quick; the production cost is in configs/culturecloud.yaml.
var fastHasher = accounts.Hasher{MemoryKiB: 8 * 1024, Time: 1}

func TestHashVerify(t *testing.T) {
	passwords := []string{"Helan-Shan-2024!", "黄河金岸石嘴山", " spaces at both ends ", strings.Repeat("x", 256)}
	for _, pw := range passwords {
		t.Run(pw[:min(len(pw), 16)], func(t *testing.T) {
			phc, err := fastHasher.Hash(pw)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if !strings.HasPrefix(phc, "$argon2id$v=19$m=8192,t=1,p=1$") {
				t.Errorf("Hash = %q, want a PHC string starting with $argon2id$v=19$m=8192,t=1,p=1$", phc)
			}
			if strings.Contains(phc, pw) {
				t.Errorf("the PHC string %q contains the password", phc)
			}
			ok, err := accounts.Verify(phc, pw)
			if err != nil || !ok {
				t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
			}
			for _, wrong := range []string{"", pw + "x", strings.ToUpper(pw) + "!", pw[1:]} {
				ok, err := accounts.Verify(phc, wrong)
				if err != nil || ok {
					t.Errorf("Verify(wrong password %q) = %v, %v; want false, nil", wrong, ok, err)
				}
			}
		})
	}
}

func TestHashIsSalted(t *testing.T) {
	a, err := fastHasher.Hash("same-password-123")
	if err != nil {
		t.Fatal(err)
	}
	b, err := fastHasher.Hash("same-password-123")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal (%q): the salt is not random", a)
	}
}

func TestVerifyUsesStoredCost(t *testing.T) {
	// A hash made with another cost still verifies: the cost comes from the PHC string.
	phc, err := accounts.Hasher{MemoryKiB: 16 * 1024, Time: 2}.Hash("raise-the-cost-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(phc, "$m=16384,t=2,p=1$") {
		t.Fatalf("Hash = %q, want cost m=16384,t=2,p=1", phc)
	}
	ok, err := accounts.Verify(phc, "raise-the-cost-1")
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, err := fastHasher.Hash("some-password-1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	salt, key := parts[4], parts[5]
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"plain text", "some-password-1"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=8192,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=8192,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=8192,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=8192,t=1,p=1$" + salt + "$" + key},
		{"bad version", "$argon2id$v=x$m=8192,t=1,p=1$" + salt + "$" + key},
		{"bad params", "$argon2id$v=19$memory=8192$" + salt + "$" + key},
		{"threads out of range", "$argon2id$v=19$m=8192,t=1,p=256$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=8192,t=1,p=1$!!!$" + key},
		{"key not base64", "$argon2id$v=19$m=8192,t=1,p=1$" + salt + "$!!!"},
		{"padded base64 key", "$argon2id$v=19$m=8192,t=1,p=1$" + salt + "$" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0"))},
		{"empty key", "$argon2id$v=19$m=8192,t=1,p=1$" + salt + "$"},
		{"too many parts", good + "$extra"},
		{"too few parts", "$argon2id$v=19$m=8192,t=1,p=1$" + salt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := accounts.Verify(tc.encoded, "some-password-1")
			if err == nil {
				t.Errorf("Verify(%q) = %v, nil; want an error for a malformed hash", tc.encoded, ok)
			}
			if ok {
				t.Errorf("Verify(%q) accepted the password", tc.encoded)
			}
		})
	}
}

func TestVerifyZeroCostIsAnError(t *testing.T) {
	good, err := fastHasher.Hash("some-password-1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	for _, params := range []string{"m=8192,t=0,p=1", "m=8192,t=1,p=0"} {
		t.Run(params, func(t *testing.T) {
			encoded := fmt.Sprintf("$argon2id$v=19$%s$%s$%s", params, parts[4], parts[5])
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Verify(%q) panicked: %v; want an error", encoded, r)
				}
			}()
			if _, err := accounts.Verify(encoded, "some-password-1"); err == nil {
				t.Errorf("Verify(%q) gave no error", encoded)
			}
		})
	}
}

func TestIsCommonPassword(t *testing.T) {
	tests := []struct {
		password string
		want     bool
	}{
		{"1234567890", true},
		{"qwertyuiop", true},
		{"QWERTYUIOP", true},
		{"Password123", true},
		{"woaini1314", true},
		{"shizuishan", true},
		{"ShiZuiShan123", true},
		{"culturecloud", true},
		{"administrator", true},
		{"Helan-Shan-2024!", false},
		{"黄河金岸石嘴山", false},
		{"", false},
		{"# Passwords of 10 or more characters that appear most often in public breach lists,", false},
		{" 1234567890", false}, // compared as typed; only the list entries are trimmed
	}
	for _, tc := range tests {
		t.Run(tc.password, func(t *testing.T) {
			if got := accounts.IsCommonPassword(tc.password); got != tc.want {
				t.Errorf("IsCommonPassword(%q) = %v, want %v", tc.password, got, tc.want)
			}
		})
	}
}
