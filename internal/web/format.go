package web

import (
	"math"
	"strconv"
)

func itoa(i int) string { return strconv.Itoa(i) }

// FormatPoints writes points with at most three decimals and no trailing zeros.
func FormatPoints(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
