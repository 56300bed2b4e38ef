package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/entrafunc/entrafunc/auth"
)

// keyLoad is how newVerifier gets the tenant's signing keys.
type keyLoad int

const (
	// keysInBackground loads them in the background until ctx ends, as
	// the server keeps them: nothing waits on the network here (the host
	// gives the handler 30 seconds to answer its first probe), and a
	// request waits for the first load at most AUTH_KEYS_WAIT. Dev mode's
	// key is created if it does not exist yet.
	keysInBackground keyLoad = iota
	// keysOnce loads them once, now, as the server does, for check
	// --online and explain --online.
	keysOnce
	// keysOffline fetches nothing: the verifier's key set is an empty one,
	// which explain, told not to check signatures, never asks for a key.
	// Dev mode still uses its local key.
	keysOffline
)

// verifierOptions say what a command needs of its mode's verifier.
type verifierOptions struct {
	keys keyLoad
	// cache keeps verified tokens as AUTH_TOKEN_CACHE_SIZE says, as the
	// server does; without it every token is judged afresh.
	cache bool
	// logger receives what the server logs about its keys; nil for none.
	logger *slog.Logger
}

// modeVerifier is the verifier newVerifier built, and what commands
// report about it.
type modeVerifier struct {
	*auth.Verifier
	// Signed says the verifier checks signatures: not offline, and in dev
	// mode only with a development key.
	Signed bool
	// DevKey is dev mode's key, nil when the mode has none or, unless
	// serving, when it does not exist yet.
	DevKey *auth.DevKey
	// Entra is the tenant's key set in jwt and easyauth modes, unless
	// offline.
	Entra *auth.EntraKeys
	// Took and LoadErr say how keysOnce's load went: a failed load still
	// returns the key set, which then answers 503 as the server would.
	Took    time.Duration
	LoadErr error
}

// newVerifier is the one place a mode becomes a key set and a verifier;
// serve, check and explain all build theirs here. Dev mode checks tokens
// against the local development key; jwt mode, and easyauth mode's
// check of the token behind the principal, against the tenant's keys,
// loaded as o.keys says.
func newVerifier(ctx context.Context, a authConfig, o verifierOptions) (modeVerifier, error) {
	vc := auth.Config{TenantID: a.TenantID, Audiences: a.Audiences, Source: auth.SourceJWT, CacheSize: -1}
	if o.cache && a.CacheSize > 0 {
		vc.CacheSize = a.CacheSize
	}
	var mv modeVerifier
	var keys auth.KeySet
	switch {
	case a.Mode == modeDev:
		vc.Source = auth.SourceDev
		k, err := devKey(a.DevKeyFile, o.keys == keysInBackground)
		if err != nil {
			return mv, err
		}
		if k != nil {
			mv.DevKey = k
			if keys, err = k.KeySet(); err != nil {
				return mv, err
			}
		}
	case a.Mode != modeJWT && a.Mode != modeEasyAuth:
		return mv, fmt.Errorf("no verifier for mode %q", a.Mode)
	case o.keys != keysOffline:
		wait := a.KeysWait
		if o.keys == keysOnce {
			wait = -1 // nothing runs a load after loadOnce's
		}
		k, err := auth.NewEntraKeys(auth.EntraKeysConfig{Authority: a.Authority, TenantID: a.TenantID, FirstLoadWait: wait, Logger: o.logger})
		if err != nil {
			return mv, err
		}
		mv.Entra, keys = k, k
		if o.keys == keysOnce {
			mv.Took, mv.LoadErr = loadOnce(ctx, k)
			break
		}
		go k.Run(ctx)
		if o.logger != nil {
			o.logger.Info("loading signing keys in the background", "metadata", k.MetadataURLs(), "audiences", a.Audiences)
		}
	}
	mv.Signed = keys != nil
	if keys == nil {
		empty, err := auth.NewStaticKeySet([]byte(`{"keys":[]}`))
		if err != nil {
			return mv, err
		}
		keys = empty
	}
	v, err := auth.NewVerifier(vc, keys)
	mv.Verifier = v
	return mv, err
}

// devKey is the development key at path: created there if create is set,
// otherwise nil when there is none, since a command that only judges
// tokens makes no key.
func devKey(path string, create bool) (*auth.DevKey, error) {
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, nil
		}
	}
	return auth.LoadOrCreateDevKey(path)
}

// onlineTimeout bounds one load of keysOnce: above the keys' own load
// timeout, so that their error, not a bare deadline, is what is reported.
const onlineTimeout = 20 * time.Second

// loadOnce loads the tenant's metadata and signing keys once, as the
// server does, and says how long it took.
func loadOnce(ctx context.Context, keys *auth.EntraKeys) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
	defer cancel()
	start := time.Now()
	err := keys.Load(ctx)
	return time.Since(start).Round(time.Millisecond), err
}
