package zh

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0秒", 59 * time.Second: "59秒", 61 * time.Second: "1分1秒",
		2*time.Hour + 30*time.Second: "2小时30秒", 1500 * time.Millisecond: "2秒"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatPoints(t *testing.T) {
	for v, want := range map[float64]string{2: "2", 1.5: "1.5", 0.7999999999999998: "0.8", 1.996: "1.996", 0: "0"} {
		if got := FormatPoints(v); got != want {
			t.Errorf("FormatPoints(%v) = %q, want %q", v, got, want)
		}
	}
}
