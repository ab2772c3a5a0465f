package aep

import (
	"testing"
)

// FuzzDecodeAnswers feeds arbitrary bytes to every decoder of Platform answers: none may
// panic, and whatever they accept holds IDs.
func FuzzDecodeAnswers(f *testing.F) {
	for _, seed := range []string{
		`{"children":[{"id":"a","name":"A","lifecycleState":"published","updateTime":1763647380000}],"_page":{"totalCount":1,"next":"c"},"_links":{"next":{"href":"@/audiences?start=c"}}}`,
		`{"children":[{"audienceId":"b","updateEpoch":"1763647380"}],"_page":{"totalCount":"x","next":7}}`,
		`{"results":{"a":{"id":"a","name":"A"},"gone":{"status":404},"n":null,"s":"str"}}`,
		`{"items":[{"id":"f","state":"enabled","inheritedAttributes":{"properties":{"isDestinationFlow":true}},"transformations":[{"params":{"segmentSelectors":{"selectors":[{"type":"PLATFORM_SEGMENT","value":{"id":"a","name":"A"}}]}}}]}],"_links":{"next":{"href":"/flows?continuationToken=t"}}}`,
		`{"id":"f","transformations":[{"params":{"segmentSelectors":{"selectors":[{"type":"PLATFORM_SEGMENT","value":{"id":""}}]}}}]}`,
		`{"error_code":403025,"message":"Profile is not valid"}`,
		`{"type":"t","title":"x","status":"404","detail":"d","code":{"a":1}}`,
		`{"updateTime":1e300}`, `[]`, `null`, ``, `{"children":null,"items":null,"results":[]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if page, _, _, _, err := decodeAudiencePage(raw); err == nil {
			for _, a := range page {
				if a.ID == "" {
					t.Fatalf("an audience without ID: %+v", a)
				}
			}
		}
		if bulk, err := decodeBulk(raw); err == nil {
			for key, a := range bulk {
				if key == "" && a.ID == "" {
					t.Fatalf("an audience without ID: %+v", a)
				}
			}
		}
		checkFlows := func(flows []Flow) {
			for _, fl := range flows {
				seen := map[string]bool{}
				for _, a := range fl.Audiences {
					if a.ID == "" || seen[a.ID] {
						t.Fatalf("flow %q: empty or repeated audience %q", fl.ID, a.ID)
					}
					seen[a.ID] = true
				}
			}
		}
		if flows, _, err := decodeFlowList(raw); err == nil {
			checkFlows(flows)
		}
		if fl, err := decodeFlow(raw, "f"); err == nil {
			checkFlows([]Flow{fl})
		}
		for _, status := range []int{400, 403, 599} {
			if e := parseProblem(status, raw); e.Title == "" || e.Status != status {
				t.Fatalf("parseProblem: %+v", e)
			}
		}
	})
}
