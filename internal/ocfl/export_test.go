package ocfl

// SetCopyPartSize lets tests copy small objects in parts (S3 wants at least 5 MiB per part
// but the last).
func (s *Store) SetCopyPartSize(n int64) { s.copyPart = n }
