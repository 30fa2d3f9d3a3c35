package codes

import (
	"errors"
	"testing"
)

func reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func TestUSCC(t *testing.T) {
	tests := map[string]struct {
		code, reason, msg string
	}{
		"worked example":        {code: "91320100748204660Q"},
		"Puyang enterprise":     {code: "91410900MA44XY7K9P"},
		"Puyang sole trader":    {code: "92410902MA9FT0K10J"},
		"Puyang agency":         {code: "11410900005558011R"},
		"wrong check character": {code: "91320100748204660R", reason: ReasonCheck, msg: "uscc check character: expected Q, found R"},
		"early pilot code":      {code: "91350211M0000XUF46", reason: ReasonCheck, msg: "uscc check character: expected R, found 6"},
		"short":                 {code: "9132010074820466", reason: ReasonLength, msg: "uscc length: 16 characters, want 18"},
		"letter I":              {code: "9132010074820466IQ", reason: ReasonAlphabet, msg: `uscc alphabet at position 17: 'I' is not in the code alphabet`},
		"lower case":            {code: "91320100748204660q", reason: ReasonAlphabet},
		"full-width digit":      {code: "９1320100748204660Q", reason: ReasonLength},
		// The department/category pair and the region are never reasons: see TestUSCCWarnings.
		"arbitration commission":       {code: "354109001234567882"},
		"region 99":                    {code: "91990000123456788C"},
		"unknown department, good sum": {code: CompleteUSCC("B132010074820466")},
		"letters in the region":        {code: CompleteUSCC("91A2010074820466")},
		"unknown department, bad sum":  {code: "B1320100748204660Q", reason: ReasonCheck},
		"org code check broken":        {code: "913201007482046X0Q", reason: ReasonOrgCode},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := USCC(tc.code)
			if got := reason(err); got != tc.reason || (tc.reason != "" && err == nil) {
				t.Fatalf("USCC(%s) = %v, want reason %q", tc.code, err, tc.reason)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message = %q, want %q", err.Error(), tc.msg)
			}
		})
	}
}

// pairs are the registration department and category pairs the official tables know.
var pairs = map[byte]string{
	'1': "1239", '2': "19", '3': "123459", '4': "19", '5': "1239", '6': "129", '7': "129",
	'8': "19", '9': "123", 'A': "19", 'N': "1239", 'Y': "1",
}

func TestUSCCEveryKnownPairIsValidWithoutWarning(t *testing.T) {
	for dept, cats := range pairs {
		for _, cat := range cats {
			code := CompleteUSCC(string(dept) + string(cat) + "41090074820466")
			if err := USCC(code); err != nil {
				t.Errorf("%s (%c/%c): %v", code, dept, cat, err)
			}
			if w := USCCWarnings(code); len(w) != 0 {
				t.Errorf("%s (%c/%c): unexpected warnings %v", code, dept, cat, w)
			}
		}
	}
}

func TestUSCCWarnings(t *testing.T) {
	tests := map[string]struct {
		code    string
		reasons []string
		msg     string
	}{
		"region 99":               {"91990000123456788C", []string{ReasonRegion}, "uscc region at position 3: 99 is not a province-level division"},
		"culture with category 2": {CompleteUSCC("4241090074820466"), []string{ReasonDepartment}, `uscc registration department at position 1: unknown pair: registration department '4' with category '2'`},
		"department B":            {CompleteUSCC("B141090074820466"), []string{ReasonDepartment}, ""},
		"letters in the region":   {CompleteUSCC("91A2010074820466"), []string{ReasonRegion}, "uscc region at position 3: division A20100 is not all digits"},
		"both":                    {CompleteUSCC("Z199000074820466"), []string{ReasonDepartment, ReasonRegion}, ""},
		"plain enterprise":        {"91410900MA44XY7K9P", nil, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.code[0] != 'Z' {
				if err := USCC(tc.code); err != nil {
					t.Fatalf("USCC(%s) = %v, want valid", tc.code, err)
				}
			}
			ws := USCCWarnings(tc.code)
			var got []string
			for _, w := range ws {
				got = append(got, w.Reason)
			}
			if len(got) != len(tc.reasons) || (len(got) > 0 && got[0] != tc.reasons[0]) || (len(got) > 1 && got[1] != tc.reasons[1]) {
				t.Fatalf("warnings = %v, want %v", got, tc.reasons)
			}
			if tc.msg != "" && ws[0].Error() != tc.msg {
				t.Errorf("message = %q, want %q", ws[0].Error(), tc.msg)
			}
		})
	}
}

func TestOrgCode(t *testing.T) {
	for code, want := range map[string]string{"748204660": "", "748204661": ReasonCheck, "74820466": ReasonLength, "7482046a0": ReasonAlphabet} {
		if got := reason(OrgCode(code)); got != want {
			t.Errorf("OrgCode(%s) reason = %q, want %q", code, got, want)
		}
	}
}

func TestResidentID(t *testing.T) {
	tests := map[string]struct{ id, reason string }{
		"valid":              {"11010519491231002X", ""},
		"valid lower-case x": {"11010519491231002x", ""},
		"valid digit check":  {"440524188001010014", ""},
		"wrong check":        {"110105194912310021", ReasonCheck},
		"bad birth date":     {"110105194913310028", ReasonBirthDate},
		"short":              {"11010519491231002", ReasonLength},
		"letters":            {"1101051949123100AX", ReasonAlphabet},
		"no such province":   {"99010519491231002X", ReasonRegion},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := ResidentID(tc.id)
			if got := reason(err); got != tc.reason {
				t.Fatalf("ResidentID = %v, want reason %q", err, tc.reason)
			}
			if err != nil && containsDigits(err.Error(), tc.id[:10]) {
				t.Errorf("error text repeats the ID number: %s", err)
			}
		})
	}
}

func containsDigits(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestMaskID(t *testing.T) {
	if got := MaskID("11010519491231002X"); got != "110105********002X" {
		t.Errorf("MaskID = %s", got)
	}
	if got := MaskID("123"); got != "***" {
		t.Errorf("MaskID short = %s", got)
	}
}

func FuzzUSCC(f *testing.F) {
	for _, s := range []string{"91320100748204660Q", "91350211M0000XUF46", "", "９1320100748204660Q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := USCC(s)
		if err == nil && (len(s) != 18 || s[17] != usccAlphabet[(31-weightedSum(s)%31)%31]) {
			t.Fatalf("%q accepted with a wrong check character", s)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error text")
		}
	})
}

func weightedSum(s string) int {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += indexOf(s[i]) * usccWeights[i]
	}
	return sum
}

func indexOf(c byte) int {
	for i := 0; i < len(usccAlphabet); i++ {
		if usccAlphabet[i] == c {
			return i
		}
	}
	return -1
}

func FuzzOrgCode(f *testing.F) {
	f.Add("748204660")
	f.Add("74820466X")
	f.Fuzz(func(t *testing.T, s string) {
		if err := OrgCode(s); err == nil && len(s) != 9 {
			t.Fatalf("%q accepted", s)
		}
	})
}

func FuzzResidentID(f *testing.F) {
	f.Add("11010519491231002X")
	f.Add("440524188001010014")
	f.Fuzz(func(t *testing.T, s string) {
		err := ResidentID(s)
		if err == nil && len(s) != 18 {
			t.Fatalf("%q accepted", s)
		}
		if err != nil && len(s) == 18 && len(s) >= 10 && containsDigits(err.Error(), s[:10]) {
			t.Fatalf("error repeats the number: %v", err)
		}
	})
}

func TestCompleteUSCC(t *testing.T) {
	if got := CompleteUSCC("9132010074820466"); got != "91320100748204660Q" {
		t.Errorf("CompleteUSCC = %s, want the worked example", got)
	}
	for _, body := range []string{"MA44XY7K", "00555801", "MA9FT0K1", "ABCDEFGH"} {
		if c := CompleteUSCC("91410900" + body); USCC(c) != nil {
			t.Errorf("%s: %v", c, USCC(c))
		}
	}
}

// FuzzMaskID: a masked ID number keeps its length and shows at most its first 6 and last 4
// characters.
func FuzzMaskID(f *testing.F) {
	f.Fuzz(func(t *testing.T, id string) {
		in, out := []rune(id), []rune(MaskID(id))
		if len(out) != len(in) {
			t.Fatalf("%q masked to %q: length changed", id, string(out))
		}
		for i := range out {
			if (len(in) <= 10 || i >= 6 && i < len(in)-4) && out[i] != '*' {
				t.Fatalf("%q masked to %q shows character %d", id, string(out), i)
			}
		}
	})
}
