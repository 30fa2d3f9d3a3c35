package deface_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/creditwatch/creditwatch/internal/deface"
	"github.com/creditwatch/creditwatch/internal/sim"
)

// BenchmarkDetect200KB parses and checks a 200 KB portal page (the home page with 1,300
// extra news items) against its baseline, with the shipped keywords and an allow-list.
func BenchmarkDetect200KB(b *testing.B) {
	index, _ := sim.PortalPage(sim.FaultOK)
	var items bytes.Buffer
	for i := 0; items.Len() < 200<<10-len(index); i++ {
		fmt.Fprintf(&items, `<li class="item-%d"><a href="/xydt/%d.html">我市召开社会信用体系建设工作推进会第%d期</a></li>`+"\n", i, i, i)
	}
	body := bytes.Replace(index, []byte("</ul></section>"), append(items.Bytes(), "</ul></section>"...), 1)
	first, err := deface.Parse(body, "text/html", pageURL)
	if err != nil {
		b.Fatal(err)
	}
	base := deface.NewBaseline(first)
	pol := deface.Policy{MustNotContain: []string{"测试页面"}, Allow: deface.AllowList{"*.gov.cn"}}
	b.Logf("page of %d bytes", len(body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := deface.Parse(body, "text/html", pageURL)
		if err != nil {
			b.Fatal(err)
		}
		if signs := deface.Detect(p, pol, &base); len(signs) != 0 {
			b.Fatalf("%+v", signs)
		}
	}
}
