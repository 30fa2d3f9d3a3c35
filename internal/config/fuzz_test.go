package config

import "testing"

// FuzzParse: whatever the file, Parse returns a config within bounds or an error with text.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, fixedNow)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without text")
			}
			return
		}
		for _, tg := range cfg.Portal.Targets {
			if tg.Interval.D() < MinTargetInterval || tg.Interval.D() > MaxInterval || tg.Timeout <= 0 || tg.Timeout > tg.Interval ||
				tg.Jitter < 0 || tg.Jitter > tg.Interval || tg.MaxBodyBytes < MinBodyBytes || tg.MaxBodyBytes > MaxPortalBodyBytes ||
				*tg.MaxRedirects < 0 || *tg.MaxRedirects > MaxRedirects {
				t.Fatalf("target accepted out of bounds: %+v", tg)
			}
		}
		pl, inc := cfg.Platform, cfg.Portal.Incident
		if pl.Interval.D() < MinSourceInterval || pl.Interval.D() > MaxInterval || pl.Timeout <= 0 || pl.Timeout > pl.Interval ||
			pl.PageSize < 1 || pl.PageSize > MaxPageSize || inc.OpenAfter < 1 || inc.CloseAfter < 1 ||
			inc.OpenAfter > MaxStreak || inc.CloseAfter > MaxStreak {
			t.Fatalf("accepted out of bounds: %+v %+v", pl, inc)
		}
		for _, e := range cfg.Publicity.Exports {
			if e.Interval.D() < MinSourceInterval || e.Interval.D() > MaxInterval {
				t.Fatalf("export accepted out of bounds: %+v", e)
			}
		}
	})
}
