package credential

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/go-jose/go-jose/v4"

	"healthcode"
)

// TokenType is the typ header of a health code token (explicit typing, RFC
// 8725 §3.11). Verify rejects tokens without it.
const TokenType = "hc+jwt"

// Signer signs health code tokens with the active key of a key ring. It
// follows rotations: each Sign uses the key that is active at that moment.
// It is safe for concurrent use.
type Signer struct {
	ring *KeyRing

	mu      sync.Mutex
	signer  jose.Signer // built for signKey
	signKey *ringKey
}

// NewSigner returns a signer over ring. The code-issuing services call it
// once at start-up. It returns an error for a nil ring.
func NewSigner(ring *KeyRing) (*Signer, error) {
	if ring == nil {
		return nil, errors.New("credential: nil key ring")
	}
	return &Signer{ring: ring}, nil
}

// joseSigner returns the go-jose signer of the active key, building it once
// per key.
func (s *Signer) joseSigner() (jose.Signer, error) {
	k := s.ring.activeKey()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signKey == k {
		return s.signer, nil
	}
	opts := (&jose.SignerOptions{}).WithType(TokenType)
	js, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.EdDSA,
		Key:       jose.JSONWebKey{Key: k.priv, KeyID: k.kid, Algorithm: string(jose.EdDSA), Use: "sig"},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("credential: new signer: %w", err)
	}
	s.signKey, s.signer = k, js
	return js, nil
}

// Sign returns the compact JWS of c: protected header {alg: EdDSA, kid, typ:
// hc+jwt}, payload the short-named claims (times in whole seconds). An empty
// TokenID is filled with NewTokenID. The code-issuing services (electronic
// code page refresh, paper codes, pass cards) call it. It returns INVALID when
// the claims are incomplete or inconsistent, when c.Issuer is not the ring's
// issuer, or when the token would exceed MaxTokenSize; wrapped errors from
// go-jose otherwise.
func (s *Signer) Sign(c Claims) (string, error) {
	if c.TokenID == "" {
		c.TokenID = NewTokenID()
	}
	if err := c.validate(); err != nil {
		return "", err
	}
	if c.Issuer != s.ring.Issuer() {
		return "", healthcode.Errorf(healthcode.EINVALID, "签发方 %q 与签名密钥的签发方 %q 不一致", c.Issuer, s.ring.Issuer())
	}
	payload, err := json.Marshal(c.wire())
	if err != nil {
		return "", fmt.Errorf("credential: encode claims: %w", err)
	}
	js, err := s.joseSigner()
	if err != nil {
		return "", err
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("credential: sign: %w", err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("credential: serialize: %w", err)
	}
	if len(tok) > MaxTokenSize {
		return "", healthcode.Errorf(healthcode.EINVALID, "令牌超过 %d 字节", MaxTokenSize)
	}
	return tok, nil
}
