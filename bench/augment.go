package bench

// AugmentRow is one line of augment.json, which benchrecord writes and benchreport reads:
// what the augmented query adds to one Venia operation, as Apollo sends it, with every fact
// hidden (the augmentation before issue 16) and with the facts the client selects itself
// read where they are (the planner's default).
type AugmentRow struct {
	Operation   string         `json:"operation"`
	ClientBytes int            `json:"client_bytes"`
	HiddenOnly  AugmentNumbers `json:"hidden_only"`
	Default     AugmentNumbers `json:"default"`
}

// AugmentNumbers are the bytes and fields an augmentation adds, and how many of those
// fields the client selects itself.
type AugmentNumbers struct {
	Bytes      int `json:"bytes"`
	Fields     int `json:"fields"`
	Duplicates int `json:"duplicates"`
}
