package upload_test

import (
	"testing"

	"github.com/shizuishan/culturecloud/media/upload"
)

// TestChecksumOf checks the part checksums against the algorithms' published check values
// (the digests of "123456789"), encoded as S3's headers carry them. library.js is held to
// the same values by a browser test.
func TestChecksumOf(t *testing.T) {
	tests := []struct {
		c            upload.Checksum
		data         string
		want, header string
	}{
		{upload.ChecksumCRC32C, "123456789", "4waSgw==", "X-Amz-Checksum-Crc32c"}, // 0xE3069283
		{upload.ChecksumCRC32C, "", "AAAAAA==", "X-Amz-Checksum-Crc32c"},
		{upload.ChecksumSHA256, "123456789", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=", "X-Amz-Checksum-Sha256"},
	}
	for _, tt := range tests {
		if got := tt.c.Of([]byte(tt.data)); got != tt.want {
			t.Errorf("%s(%q) = %s, want %s", tt.c, tt.data, got, tt.want)
		}
		if got := tt.c.Header(); got != tt.header {
			t.Errorf("%s header = %s, want %s", tt.c, got, tt.header)
		}
	}
}

// A session stored before the algorithm was recorded used SHA-256 for its parts.
func TestSessionFromBeforeChecksumsWereRecordedUsesSHA256(t *testing.T) {
	if got := (&upload.Session{}).PartChecksum(); got != upload.ChecksumSHA256 {
		t.Errorf("PartChecksum() = %s, want SHA256", got)
	}
	if got := (&upload.Session{Checksum: upload.ChecksumCRC32C}).PartChecksum(); got != upload.ChecksumCRC32C {
		t.Errorf("PartChecksum() = %s, want CRC32C", got)
	}
}
