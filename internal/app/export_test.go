package app

// Retryable and StorageError expose the attach job's error classification to tests.
var (
	Retryable    = retryable
	StorageError = storageError
)
