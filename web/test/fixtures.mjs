// Shapes as the API sends them, for the console's unit tests.

let next = 1;

/** An IncidentSummary (contract: incl. `actions`), with overrides. */
export function incident(over = {}) {
  const id = over.id ?? next++;
  return {
    id,
    municipality: 'testtown',
    type: 'flood',
    sector: 'disaster',
    severity: 'severe',
    status: 'new',
    title: `Incident ${id}`,
    title_local: null,
    location: { lat: 42.69, lon: 23.32 },
    rule_id: 'flood-level',
    proposed_agency: 'civil-protection',
    assigned_agency: null,
    created_at: '2026-12-03T08:00:00+00:00',
    updated_at: '2026-12-03T08:00:00+00:00',
    event_count: 1,
    actions: ['acknowledge', 'assign', 'cancel', 'note', 'sop'],
    ...over,
  };
}

export function sensor(over = {}) {
  return {
    id: 'river-1',
    name: 'River gauge 1',
    name_local: 'Водомер 1',
    kind: 'water_level',
    unit: 'm',
    position: { lat: 42.69, lon: 23.32 },
    valid_min: 0,
    valid_max: 10,
    value: 2.0,
    ts: '2026-12-03T08:00:00+00:00',
    received_at: '2026-12-03T08:00:01+00:00',
    state: 'ok',
    thresholds: [],
    ...over,
  };
}

export function camera(over = {}) {
  return {
    id: 'cam-a',
    name: 'Crossing west',
    name_local: null,
    position: { lat: 42.69, lon: 23.32 },
    heading_deg: 90,
    fov_deg: 60,
    range_m: 80,
    stream_url: null,
    zones: [],
    has_video: false,
    health: 'unknown',
    last_event_at: null,
    ...over,
  };
}
