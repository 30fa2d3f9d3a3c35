package report

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// envelope is what a report's signature covers: its month, data digest, version, when it
// was frozen (or made), the renderer and the public key it names.
func (m Meta) envelope() []byte {
	return []byte(strings.Join([]string{"creditwatch-report/1", m.Month, m.Digest, strconv.Itoa(m.Version), m.StampedAt,
		m.Renderer, m.PublicKey}, "\n") + "\n")
}

func (r *Report) sign(key ed25519.PrivateKey) error {
	if key == nil {
		return nil
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return errors.New("signing key is not an Ed25519 key")
	}
	r.Meta.PublicKey = base64.StdEncoding.EncodeToString(pub)
	r.Meta.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, r.Meta.envelope()))
	return nil
}

// ErrSignature is returned when a report's signature does not hold.
var ErrSignature = errors.New("the report's signature does not match")

// CheckSignature checks the report's signature with a public key the verifier trusts (not
// the one the report names, which anyone could replace).
func (m Meta) CheckSignature(trusted ed25519.PublicKey) error {
	if m.Signature == "" {
		return fmt.Errorf("%w: the report is not signed", ErrSignature)
	}
	if named, err := base64.StdEncoding.DecodeString(m.PublicKey); err != nil || !trusted.Equal(ed25519.PublicKey(named)) {
		return fmt.Errorf("%w: it names key %s, not the trusted key %s", ErrSignature, fingerprintOf(m.PublicKey), Fingerprint(trusted))
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || !ed25519.Verify(trusted, m.envelope(), sig) {
		return fmt.Errorf("%w: its month, digest, version or stamp was changed after signing", ErrSignature)
	}
	return nil
}

// Fingerprint names a public key: the start of its SHA-256, in groups of four.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	h := hex.EncodeToString(sum[:16])
	var groups []string
	for i := 0; i < len(h); i += 4 {
		groups = append(groups, h[i:i+4])
	}
	return "SHA256:" + strings.Join(groups, ":")
}

func fingerprintOf(b64 string) string {
	pub, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return "(none)"
	}
	return Fingerprint(pub)
}

// GenerateKey writes a new signing key to path (PKCS#8 PEM, mode 0600) and its public key
// to path.pub, and returns the public key. It never overwrites a key.
func GenerateKey(path string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(path+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		os.Remove(path)
		return nil, err
	}
	return pub, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

// LoadSigningKey reads a signing key written by GenerateKey.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PEM private key (make one with creditwatch keys generate)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not an Ed25519 key", path)
	}
	return priv, nil
}

// LoadPublicKey reads a public key: a PEM file written by GenerateKey, or the base64 key a
// report prints in its footer.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	if b, _ := pem.Decode(data); b != nil {
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if pub, ok := k.(ed25519.PublicKey); err == nil && ok {
			return pub, nil
		}
		return nil, fmt.Errorf("public key %s: not an Ed25519 PEM public key", path)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %s: neither a PEM public key nor a base64 Ed25519 key", path)
	}
	return ed25519.PublicKey(raw), nil
}
