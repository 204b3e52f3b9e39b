package upload

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
)

// Checksum is the algorithm of the checksum that the client sends with every part and
// MinIO verifies. Parts carry CRC32C: it guards the transfer as well as SHA-256 does, costs
// the client and MinIO a fraction of it, and browsers can compute it without crypto.subtle,
// which works only on HTTPS pages. The whole file's SHA-256 and SHA-512 come from the
// server's own read at completion. Sessions started before CRC32C keep SHA-256.
type Checksum string

// The part checksum algorithms, as S3 names them.
const (
	ChecksumCRC32C Checksum = "CRC32C"
	ChecksumSHA256 Checksum = "SHA256"
)

// Header is the request header that carries a part's checksum.
func (c Checksum) Header() string {
	if c == ChecksumSHA256 {
		return "X-Amz-Checksum-Sha256"
	}
	return "X-Amz-Checksum-Crc32c"
}

// Of is the checksum of a part's bytes as the header carries it (standard base64 of the
// big-endian digest).
func (c Checksum) Of(part []byte) string {
	if c == ChecksumSHA256 {
		sum := sha256.Sum256(part)
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(part, castagnoli)))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)
