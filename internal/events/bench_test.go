package events

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// loadgenEvent is event n in the shape cmd/loadgen sends: a status change of about 1 KiB with a
// processing step, plain ASCII text, padded with a summary.
func loadgenEvent(n int) []byte {
	code := "LGbench-" + strconv.Itoa(10000+n%1000)
	v := strconv.Itoa(n/1000 + 1)
	st := strconv.Itoa(n%10 + 1)
	ev := `{"specversion":"1.0","id":"lg-bench-` + strconv.Itoa(n) + `","source":"/onestop/loadgen",` +
		`"type":"vn.gov.dossier.status_changed","subject":"` + code + `","time":"2025-11-26T01:00:00Z",` +
		`"datacontenttype":"application/json","data":{"version":` + v + `,"dossier":{"MaHoSo":"` + code + `",` +
		`"MaTTHC":"1.011442","TenTTHC":"Cap giay phep xay dung","ChuHoSo":"Nguyen Van A","LoaiDoiTuong":1,` +
		`"TrangThaiHoSo":` + st + `,"NgayTiepNhan":"20251126083000","NgayHenTra":"20251210170000",` +
		`"DonViXuLy":"UBND xa Hoang Dong","TrichYeuHoSo":"%s","DanhSachLePhi":[{"TenPhiLePhi":"Le phi",` +
		`"MaPhiLePhi":"LP01","Gia":50000}]},"step":{"NguoiXuLy":"Tran Thi B","ThoiDiemXuLy":"20251126090000",` +
		`"NoiDungXuLy":"buoc ` + v + `","TrangThai":` + st + `}}}`
	const text = "Ho so de nghi cap giay phep xay dung nha o rieng le tai xa Hoang Dong. "
	pad := max(1024-len(ev)+2, 0)
	return []byte(strings.Replace(ev, "%s", strings.Repeat(text, pad/len(text)+1)[:pad], 1))
}

// vietnameseEvent is statusJSON with its Vietnamese text written as \u escapes, as JSON encoders
// that escape everything outside ASCII send it.
func vietnameseEvent() []byte {
	var b strings.Builder
	for _, r := range statusJSON {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		b.WriteString(`\u`)
		h := strconv.FormatInt(int64(r), 16)
		b.WriteString(strings.Repeat("0", 4-len(h)) + h)
	}
	return []byte(b.String())
}

func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name string
		raw  []byte
	}{
		{"loadgen", loadgenEvent(12345)},
		{"vietnamese", []byte(statusJSON)},
		{"escaped", vietnameseEvent()},
		{"delivery", []byte(deliveryJSON)},
		{"invalid", []byte(strings.Replace(string(loadgenEvent(1)), `"TrangThaiHoSo":2`, `"TrangThaiHoSo":12`, 1))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			_, err := Parse(c.raw, "")
			if (err != nil) != (c.name == "invalid") {
				b.Fatalf("Parse: %v", err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.raw)))
			for b.Loop() {
				_, _ = Parse(json.RawMessage(c.raw), "")
			}
		})
	}
}

func BenchmarkParseBatch(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			body := []byte{'['}
			for i := range n {
				if i > 0 {
					body = append(body, ',')
				}
				body = append(body, loadgenEvent(i)...)
			}
			body = append(body, ']')
			evs, _, err := ParseBatch(body)
			if err != nil || evs[n-1] == nil {
				b.Fatalf("ParseBatch: %v", err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_, _, _ = ParseBatch(body)
			}
		})
	}
}
