package payments

import (
	"context"
	"fmt"
)

// KeyUsed reports whether client's Idempotency-Key is already bound to a payment request. A
// request that does not even parse is another body than the one the key was used with, so the
// API answers it 409 rather than 400 when the key is taken (api.md: the same key with a
// different body is 409).
func (s *Service) KeyUsed(ctx context.Context, client, key string) (bool, error) {
	n, err := s.store.Client.Exists(ctx, s.keys.idempotency(client, key)).Result()
	if err != nil {
		return false, fmt.Errorf("reading idempotency key: %w", err)
	}
	return n == 1, nil
}
