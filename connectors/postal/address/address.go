// Package address maps the GSO administrative codes the one-stop system sends (province, commune,
// and for legacy dossiers district) to the postal codes VNPost uses. The mapping is data, not
// code: one CSV file per province under data/ is embedded in the binary (Lạng Sơn, GSO 20, is the
// first), and a deployment may load more files from configuration (New's paths) without a new
// build. See data/20-lang-son.csv for the file format and for which values are [assumed].
//
// Administrative codes are not personal data: errors name the code that failed.
package address

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/egov-vn/gateway/connectors/postal"
)

//go:embed data/*.csv
var embedded embed.FS

// ErrMalformedCode is a code that is not the right number of ASCII digits (full-width digits,
// spaces, signs and wrong lengths are all refused; nothing is trimmed or converted).
var ErrMalformedCode = errors.New("malformed administrative code")

// Lengths of the GSO codes.
const (
	provinceLen = 2
	districtLen = 3
	communeLen  = 5
)

// Query is what the one-stop system sends about an address: GSO codes.
type Query struct {
	Province string // 2 digits, e.g. "20"
	Commune  string // 5 digits, e.g. "05977"
	District string // 3 digits, legacy dossiers only; empty otherwise
}

// Codes are the postal codes of an address, with the GSO codes they were resolved from.
type Codes struct {
	// PostalProvince is the 2-digit postal province prefix ("25" for Lạng Sơn).
	PostalProvince string
	// PostalArea is the 4-digit postal code of the area serving the address ("2510").
	PostalArea string
	// Province, Commune and District are the GSO codes; District is the legacy district sent, or
	// the one the commune's code comes from.
	Province string
	Commune  string
	District string
	// Assumed is true when a value used was marked assumed in the data file.
	Assumed bool
}

type entry struct {
	postal   string
	district string
	name     string
	assumed  bool
}

type province struct {
	postal    string
	assumed   bool
	districts map[string]entry
	communes  map[string]entry
}

// Resolver maps GSO codes to postal codes. It is read-only after New and safe for concurrent use.
type Resolver struct {
	provinces map[string]*province
}

// Default returns the resolver of the embedded data files only.
func Default() (*Resolver, error) { return New() }

// New loads the embedded data files, then each extra file (a deployment's own provinces). A file
// for a province already loaded replaces nothing: its rows are added, and a code defined twice is
// an error.
func New(extraFiles ...string) (*Resolver, error) {
	r := &Resolver{provinces: map[string]*province{}}
	names, err := fs.Glob(embedded, "data/*.csv")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := embedded.Open(name)
		if err != nil {
			return nil, err
		}
		err = r.load(path.Base(name), f)
		_ = f.Close()
		if err != nil {
			return nil, err
		}
	}
	for _, p := range extraFiles {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("postal address data: %w", err)
		}
		err = r.load(p, f)
		_ = f.Close()
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Provinces lists the GSO province codes the resolver knows, sorted.
func (r *Resolver) Provinces() []string {
	out := make([]string, 0, len(r.provinces))
	for code := range r.provinces {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

// Resolve maps q to postal codes. The area comes from the commune; a legacy dossier that also
// sends its district is resolved by the district (its commune code predates the reform and may
// since name another unit), and its commune code is then only checked for form.
//
// A malformed code gives an error wrapping ErrMalformedCode; a well-formed code without a mapping
// gives one wrapping postal.ErrNoMapping. Both name the field and the code.
func (r *Resolver) Resolve(q Query) (Codes, error) {
	if err := errors.Join(
		checkCode("province", q.Province, provinceLen, false),
		checkCode("commune", q.Commune, communeLen, false),
		checkCode("district", q.District, districtLen, true),
	); err != nil {
		return Codes{}, err
	}
	p, ok := r.provinces[q.Province]
	if !ok {
		return Codes{}, fmt.Errorf("province %s: %w", q.Province, postal.ErrNoMapping)
	}
	out := Codes{PostalProvince: p.postal, Province: q.Province, Commune: q.Commune, Assumed: p.assumed}
	if q.District != "" {
		d, ok := p.districts[q.District]
		if !ok {
			return Codes{}, fmt.Errorf("district %s of province %s: %w", q.District, q.Province, postal.ErrNoMapping)
		}
		out.PostalArea, out.District, out.Assumed = d.postal, q.District, out.Assumed || d.assumed
		return out, nil
	}
	c, ok := p.communes[q.Commune]
	if !ok {
		return Codes{}, fmt.Errorf("commune %s of province %s: %w", q.Commune, q.Province, postal.ErrNoMapping)
	}
	out.PostalArea, out.District, out.Assumed = c.postal, c.district, out.Assumed || c.assumed
	return out, nil
}

// ResolveParty resolves the GSO codes of a postal party.
func (r *Resolver) ResolveParty(p postal.Party) (Codes, error) {
	return r.Resolve(Query{Province: p.ProvinceCode, Commune: p.CommuneCode, District: p.DistrictCode})
}

// checkCode accepts exactly n ASCII digits (or nothing, when optional).
func checkCode(field, code string, n int, optional bool) error {
	if code == "" && optional {
		return nil
	}
	if len(code) != n || !digits(code) {
		return fmt.Errorf("%s code %q: want %d ASCII digits: %w", field, code, n, ErrMalformedCode)
	}
	return nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Columns of a data file, in order.
var header = []string{"kind", "gso", "postal", "district", "name", "source"}

// load reads one data file; name is used in errors only.
func (r *Resolver) load(name string, rd io.Reader) error {
	cr := csv.NewReader(rd)
	cr.Comment = '#'
	cr.FieldsPerRecord = len(header)
	rows, err := cr.ReadAll()
	if err != nil {
		return fmt.Errorf("postal address data %s: %w", name, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(header, ",") {
		return fmt.Errorf("postal address data %s: first row must be the header %s", name, strings.Join(header, ","))
	}
	var p *province
	for i, row := range rows[1:] {
		if err := r.addRow(&p, row); err != nil {
			return fmt.Errorf("postal address data %s: data row %d: %w", name, i+1, err)
		}
	}
	if p == nil {
		return fmt.Errorf("postal address data %s: no province row", name)
	}
	return nil
}

func (r *Resolver) addRow(cur **province, row []string) error {
	kind, gso, postalCode, district, name, source := row[0], row[1], row[2], row[3], row[4], row[5]
	if source != "confirmed" && source != "assumed" {
		return fmt.Errorf("source %q: want confirmed or assumed", source)
	}
	e := entry{postal: postalCode, district: district, name: name, assumed: source == "assumed"}
	switch kind {
	case "province":
		if err := errors.Join(checkCode("province", gso, provinceLen, false), checkCode("postal province", postalCode, 2, false)); err != nil {
			return err
		}
		p, ok := r.provinces[gso]
		if !ok {
			p = &province{postal: postalCode, assumed: e.assumed, districts: map[string]entry{}, communes: map[string]entry{}}
			r.provinces[gso] = p
		} else if p.postal != postalCode {
			return fmt.Errorf("province %s: postal prefix %s differs from %s loaded before", gso, postalCode, p.postal)
		}
		*cur = p
		return nil
	case "district", "commune":
	default:
		return fmt.Errorf("kind %q: want province, district or commune", kind)
	}
	p := *cur
	if p == nil {
		return errors.New("a district or commune row before the province row")
	}
	if err := checkCode("postal area", postalCode, 4, false); err != nil {
		return err
	}
	if !strings.HasPrefix(postalCode, p.postal) {
		return fmt.Errorf("postal code %s is outside the province's prefix %s", postalCode, p.postal)
	}
	if kind == "district" {
		if err := checkCode("district", gso, districtLen, false); err != nil {
			return err
		}
		if _, dup := p.districts[gso]; dup {
			return fmt.Errorf("district %s defined twice", gso)
		}
		p.districts[gso] = e
		return nil
	}
	if err := errors.Join(checkCode("commune", gso, communeLen, false), checkCode("district", district, districtLen, true)); err != nil {
		return err
	}
	if _, dup := p.communes[gso]; dup {
		return fmt.Errorf("commune %s defined twice", gso)
	}
	p.communes[gso] = e
	return nil
}
