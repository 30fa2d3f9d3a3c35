package ledger

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// FieldIDNumberHash is the field that replaces a natural person's ID number in a stored
// record: a keyed hash (HMAC-SHA-256), so that the same person can be recognised across
// records without the number being kept. The number itself is kept masked (first 6 and
// last 4 characters), as the office publishes it.
const FieldIDNumberHash = "证件号码摘要"

// PersonalDataKey reads the key of ID-number hashes from path, creating it (32 random bytes,
// mode 0600) if it does not exist yet.
func PersonalDataKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating the personal data key %s: %w", path, err)
		}
		_, err = f.WriteString(hex.EncodeToString(key) + "\n")
		return key, errors.Join(err, f.Close())
	}
	if err != nil {
		return nil, fmt.Errorf("reading the personal data key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("personal data key %s: not a hex key of at least 16 bytes", path)
	}
	return key, nil
}

// CheckPersonalDataKey records which key the ledger's ID numbers are hashed with (a keyed
// fingerprint of it, never the key) the first time, and refuses another key after: every
// instance sharing a ledger must use the same key file, or the same person's records could
// not be told apart.
func (l *Ledger) CheckPersonalDataKey(ctx context.Context, key []byte, file string) error {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("creditwatch personal data key check"))
	fp := hex.EncodeToString(mac.Sum(nil))
	if _, err := l.w.ExecContext(ctx, `INSERT INTO ledger_settings (name, value) VALUES ('personal_data_key', ?)
		ON CONFLICT (name) DO NOTHING`, fp); err != nil {
		return fmt.Errorf("recording the personal data key's fingerprint: %w", err)
	}
	var have string
	if err := l.w.QueryRowContext(ctx, `SELECT value FROM ledger_settings WHERE name = 'personal_data_key'`).Scan(&have); err != nil {
		return fmt.Errorf("reading the personal data key's fingerprint: %w", err)
	}
	if have != fp {
		return fmt.Errorf("personal data key %s is not the key this ledger's ID numbers were hashed with: every instance "+
			"sharing a ledger needs the same key file (storage.personal_data_key_file)", file)
	}
	return nil
}

// SetPersonalDataKey sets the key ID numbers are hashed with before they are stored.
func (l *Ledger) SetPersonalDataKey(key []byte) { l.piiKey = key }

// protect returns fields with a natural person's ID number masked and, with a key, hashed.
// It reports whether it changed anything.
func protect(fields map[string]string, key []byte) (map[string]string, bool) {
	id := strings.TrimSpace(fields[publicity.FieldIDNumber])
	if id == "" || strings.Contains(id, "*") {
		return fields, false
	}
	out := make(map[string]string, len(fields)+1)
	for k, v := range fields {
		out[k] = v
	}
	out[publicity.FieldIDNumber] = codes.MaskID(id)
	if key != nil {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(strings.ToUpper(id)))
		out[FieldIDNumberHash] = hex.EncodeToString(m.Sum(nil))
	}
	return out, true
}

// ProtectStoredIDs masks (and hashes) the ID numbers of records stored before creditwatch
// did so, a few hundred at a time, so that probes are never held up.
func (l *Ledger) ProtectStoredIDs(ctx context.Context) (int, error) {
	total := 0
	for _, table := range []string{"publicity_records", "cases"} {
		n, err := l.protectStored(ctx, table)
		total += n
		if err != nil {
			return total, fmt.Errorf("protecting stored ID numbers in %s: %w", table, err)
		}
	}
	return total, nil
}

// protectStored is ProtectStoredIDs for one table with columns rid and fields.
func (l *Ledger) protectStored(ctx context.Context, table string) (int, error) {
	total := 0
	for last := int64(0); ; {
		type row struct {
			rid    int64
			fields string
		}
		var batch []row
		err := l.scanRows(ctx, func(rows *sql.Rows) error {
			var r row
			if err := rows.Scan(&r.rid, &r.fields); err != nil {
				return err
			}
			batch = append(batch, r)
			return nil
		}, `SELECT rid, fields FROM `+table+` WHERE rid > ? AND fields LIKE '%"证件号码":"%' ORDER BY rid LIMIT 500`, last)
		if err != nil || len(batch) == 0 {
			return total, err
		}
		last = batch[len(batch)-1].rid
		err = l.inTx(ctx, func(tx *sql.Tx) error {
			for _, r := range batch {
				var f map[string]string
				if json.Unmarshal([]byte(r.fields), &f) != nil {
					continue
				}
				if p, changed := protect(f, l.piiKey); changed {
					b, _ := json.Marshal(p)
					if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET fields = ? WHERE rid = ?`, string(b), r.rid); err != nil {
						return err
					}
					total++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
	}
}
