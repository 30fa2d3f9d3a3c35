// Package codes checks the identifiers found in credit records: the unified social credit
// code (GB 32100-2015), the organisation code inside it (GB 11714) and the resident ID
// number (GB 11643). Each check returns nil or an *Error saying why the code is invalid.
package codes

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Reasons a code is invalid; bounded, so they can be metric labels.
const (
	ReasonLength     = "length"
	ReasonAlphabet   = "alphabet"
	ReasonDepartment = "registration_department"
	ReasonRegion     = "region"
	ReasonOrgCode    = "organisation_code"
	ReasonCheck      = "check_character"
	ReasonBirthDate  = "birth_date"
)

// Error is an invalid code and why.
type Error struct {
	Kind     string // "uscc", "organisation code", "resident ID"
	Reason   string
	Detail   string
	Position int  // 1-based position of the offending character, 0 if none
	Expected rune // for check characters
	Found    rune
}

func (e *Error) Error() string {
	switch {
	case e.Reason == ReasonCheck:
		return fmt.Sprintf("%s check character: expected %c, found %c", e.Kind, e.Expected, e.Found)
	case e.Position > 0:
		return fmt.Sprintf("%s %s at position %d: %s", e.Kind, strings.ReplaceAll(e.Reason, "_", " "), e.Position, e.Detail)
	}
	return fmt.Sprintf("%s %s: %s", e.Kind, strings.ReplaceAll(e.Reason, "_", " "), e.Detail)
}

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccCategories lists, per registration department (position 1), the organisation
// categories (position 2) of GB 32100-2015 appendix A and its later additions. The tables
// change, so a pair outside them is a warning, never an invalid code.
var usccCategories = map[byte]string{
	'1': "1239", '2': "19", '3': "123459", '4': "19", '5': "1239", '6': "129", '7': "129",
	'8': "19", '9': "123", 'A': "19", 'N': "1239", 'Y': "1",
}

// Province-level prefixes of administrative division codes (GB/T 2260), and 10 for
// codes assigned by central authorities.
var provinces = map[string]bool{
	"10": true, "11": true, "12": true, "13": true, "14": true, "15": true, "21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true, "41": true, "42": true,
	"43": true, "44": true, "45": true, "46": true, "50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true, "71": true, "81": true, "82": true,
}

// USCC checks an 18-character unified social credit code. Only its length, alphabet,
// check character and embedded organisation code make it invalid; see USCCWarnings for
// what is merely unusual.
func USCC(code string) error {
	const kind = "uscc"
	if n := utf8.RuneCountInString(code); n != 18 || len(code) != 18 {
		return &Error{Kind: kind, Reason: ReasonLength, Detail: fmt.Sprintf("%d characters, want 18", n)}
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(usccAlphabet, code[i]) < 0 {
			return &Error{Kind: kind, Reason: ReasonAlphabet, Position: i + 1, Detail: fmt.Sprintf("%q is not in the code alphabet", code[i])}
		}
	}
	if err := OrgCode(code[8:17]); err != nil {
		oe := err.(*Error)
		return &Error{Kind: kind, Reason: ReasonOrgCode, Position: 9, Detail: oe.Error()}
	}
	if want := usccCheck(code[:17]); code[17] != want {
		return &Error{Kind: kind, Reason: ReasonCheck, Position: 18, Expected: rune(want), Found: rune(code[17])}
	}
	return nil
}

// USCCWarnings lists what is unusual about a code whose characters are all in the code
// alphabet: a registration department and category pair outside the known tables, or an
// administrative division that is not a province-level one. Warnings never make a code
// invalid: the official tables change and codes issued under older ones stay valid.
func USCCWarnings(code string) []*Error {
	const kind = "uscc"
	if len(code) != 18 {
		return nil
	}
	var out []*Error
	if cats, ok := usccCategories[code[0]]; !ok || !strings.ContainsRune(cats, rune(code[1])) {
		out = append(out, &Error{Kind: kind, Reason: ReasonDepartment, Position: 1,
			Detail: fmt.Sprintf("unknown pair: registration department %q with category %q", code[0], code[1])})
	}
	region := code[2:8]
	if strings.Trim(region, "0123456789") != "" {
		out = append(out, &Error{Kind: kind, Reason: ReasonRegion, Position: 3, Detail: fmt.Sprintf("division %s is not all digits", region)})
	} else if !provinces[region[:2]] {
		out = append(out, &Error{Kind: kind, Reason: ReasonRegion, Position: 3, Detail: fmt.Sprintf("%s is not a province-level division", region[:2])})
	}
	return out
}

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// OrgCode checks a 9-character organisation code (GB 11714) without its hyphen.
func OrgCode(code string) error {
	const kind = "organisation code"
	if len(code) != 9 {
		return &Error{Kind: kind, Reason: ReasonLength, Detail: fmt.Sprintf("%d bytes, want 9", len(code))}
	}
	for i := 0; i < 8; i++ {
		if c := code[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return &Error{Kind: kind, Reason: ReasonAlphabet, Position: i + 1, Detail: fmt.Sprintf("%q is not a digit or capital letter", c)}
		}
	}
	if want := orgCheck(code[:8]); code[8] != want {
		return &Error{Kind: kind, Reason: ReasonCheck, Position: 9, Expected: rune(want), Found: rune(code[8])}
	}
	return nil
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idChecks = "10X98765432"

// ResidentID checks an 18-character resident identity card number (GB 11643). Error texts
// never repeat the number: it is personal data.
func ResidentID(id string) error {
	const kind = "resident ID"
	if len(id) != 18 {
		return &Error{Kind: kind, Reason: ReasonLength, Detail: fmt.Sprintf("%d characters, want 18", utf8.RuneCountInString(id))}
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return &Error{Kind: kind, Reason: ReasonAlphabet, Position: i + 1, Detail: "the first 17 characters must be digits"}
		}
		sum += int(id[i]-'0') * idWeights[i]
	}
	if !provinces[id[0:2]] || id[0:2] == "10" {
		return &Error{Kind: kind, Reason: ReasonRegion, Position: 1, Detail: "not a province-level division"}
	}
	if _, err := time.Parse("20060102", id[6:14]); err != nil {
		return &Error{Kind: kind, Reason: ReasonBirthDate, Position: 7, Detail: "not a valid date of birth"}
	}
	check := id[17]
	if check == 'x' {
		check = 'X'
	}
	if want := idChecks[sum%11]; check != want {
		return &Error{Kind: kind, Reason: ReasonCheck, Position: 18, Expected: rune(want), Found: rune(id[17])}
	}
	return nil
}

// MaskID shows the first 6 and last 4 characters of an ID number, for reports.
func MaskID(id string) string {
	r := []rune(id)
	if len(r) <= 10 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

// orgCheck is the GB 11714 check character of an organisation code's 8-character body
// (digits and capital letters).
func orgCheck(body string) byte {
	sum := 0
	for i := 0; i < 8; i++ {
		v := int(body[i] - '0')
		if body[i] >= 'A' {
			v = int(body[i]-'A') + 10
		}
		sum += v * orgWeights[i]
	}
	switch r := 11 - sum%11; r {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + r)
	}
}

// usccCheck is the GB 32100 check character of a code's first 17 characters (all in the
// code alphabet).
func usccCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccAlphabet, first17[i]) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

// CompleteUSCC appends the check characters to the first 16 characters of a unified social
// credit code (registration department, category, region and the 8-character body of the
// organisation code): the organisation code's check and the code's own. For generating
// valid test data.
func CompleteUSCC(first16 string) string {
	b := first16 + string(orgCheck(first16[8:16]))
	return b + string(usccCheck(b))
}
