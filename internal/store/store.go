// Package store owns the gateway's Redis: opening the client (a real Redis through go-redis's
// universal client, or the embedded Redis-compatible store of the dev profile), the key layout,
// the stream message codec and the Lua scripts that make "check and write" one atomic round trip.
//
// Key layout. Every key starts with the configured prefix. Keys that one script touches together
// share a hash tag ({...}) so the same scripts run on Redis Cluster: a topic's stream and the
// idempotency keys of the events written to it share the topic's tag; a dossier's sync state and
// lock share the dossier's tag.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Options selects the store.
type Options struct {
	Embedded   bool
	URL        string
	Addrs      []string
	MasterName string
}

// Store is an open Redis client with the gateway's key layout.
type Store struct {
	Client redis.UniversalClient
	Keys   Keys

	embedded *miniredis.Miniredis
	stopTick chan struct{}
	once     sync.Once
}

// Open connects to the store and checks it answers.
func Open(ctx context.Context, opts Options, prefix string, log *slog.Logger) (*Store, error) {
	s := &Store{Keys: Keys{Prefix: prefix}}
	var uo *redis.UniversalOptions
	switch {
	case opts.Embedded:
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("starting embedded store: %w", err)
		}
		s.embedded = m
		s.stopTick = make(chan struct{})
		go s.advanceEmbeddedClock()
		uo = &redis.UniversalOptions{Addrs: []string{m.Addr()}}
		log.Warn("DEV PROFILE: using the embedded in-memory store; every event, payment and dead letter is LOST when the process exits. Set GATEWAY_REDIS_URL or use -config for production.",
			"addr", m.Addr())
	case opts.URL != "":
		o, err := redis.ParseURL(opts.URL)
		if err != nil {
			return nil, fmt.Errorf("parsing redis URL: %w", redactURLError(err))
		}
		uo = &redis.UniversalOptions{
			Addrs: []string{o.Addr}, DB: o.DB, Username: o.Username, Password: o.Password,
			TLSConfig: o.TLSConfig, Protocol: o.Protocol,
		}
	default:
		uo = &redis.UniversalOptions{Addrs: opts.Addrs, MasterName: opts.MasterName}
	}
	uo.PoolSize = 64
	uo.MinIdleConns = 4
	// XREADGROUP blocks up to the subscriber's block time; leave room for it.
	uo.ReadTimeout = 5 * time.Second
	s.Client = redis.NewUniversalClient(uo)
	if err := s.Client.Ping(ctx).Err(); err != nil {
		s.Close()
		return nil, fmt.Errorf("reaching redis: %w", err)
	}
	return s, nil
}

// Close closes the client and stops the embedded store.
func (s *Store) Close() {
	s.once.Do(func() {
		if s.Client != nil {
			_ = s.Client.Close()
		}
		if s.embedded != nil {
			close(s.stopTick)
			s.embedded.Close()
		}
	})
}

// Embedded is the embedded store, or nil.
func (s *Store) Embedded() *miniredis.Miniredis { return s.embedded }

// advanceEmbeddedClock makes key TTLs expire in the embedded store, which only counts them down
// when told that time passed.
func (s *Store) advanceEmbeddedClock() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stopTick:
			return
		case now := <-t.C:
			s.embedded.FastForward(now.Sub(last))
			last = now
		}
	}
}

// redactURLError keeps a password that go-redis may echo out of the error.
func redactURLError(err error) error {
	return fmt.Errorf("invalid redis URL (%T)", err)
}

// Keys builds the key names.
type Keys struct{ Prefix string }

// Stream is the stream of a topic.
func (k Keys) Stream(topic string) string { return k.Prefix + ":{" + topic + "}" }

// Seen is the idempotency key of an event written to topic.
func (k Keys) Seen(topic, source, id string) string {
	h := sha256.Sum256([]byte(source + "\x00" + id))
	return k.Prefix + ":{" + topic + "}:seen:" + hex.EncodeToString(h[:16])
}

// Handled is the idempotent-consumer key of a message in one handler.
func (k Keys) Handled(handler, messageUUID string) string {
	return k.Prefix + ":handled:" + handler + ":" + messageUUID
}

// Dossier is the sync state hash of a dossier.
func (k Keys) Dossier(code string) string { return k.Prefix + ":dossier:{" + code + "}" }

// DossierLock serialises the sync of one dossier across consumers and replicas.
func (k Keys) DossierLock(code string) string { return k.Prefix + ":dossier:{" + code + "}:lock" }

// DossierSteps is the set of versions whose processing step reached the portal.
func (k Keys) DossierSteps(code string) string { return k.Prefix + ":dossier:{" + code + "}:steps" }

// Timeline is the capped stream of what happened to a dossier.
func (k Keys) Timeline(code string) string { return k.Prefix + ":dossier:{" + code + "}:timeline" }

// RetrySchedule is the sorted set of messages of topic parked for a partner, scored by due time.
// It shares the topic's hash tag so a due message moves back to the stream in one script.
func (k Keys) RetrySchedule(topic, partner string) string {
	return k.Prefix + ":{" + topic + "}:retry:" + partner
}

// Paused is the hash of paused partners.
func (k Keys) Paused() string { return k.Prefix + ":partners:paused" }

// Audit is the stream of ops actions.
func (k Keys) Audit() string { return k.Prefix + ":audit" }
