// Shapes the console receives from the API and the live feed (see /work/notes/CONTRACT.md and
// docs/LIVE.md), and the console's own state. Types only: nothing loads this file at run time;
// the modules name these types in JSDoc, e.g. @param {import('./types').IncidentSummary} inc.

export type Severity = 'minor' | 'moderate' | 'severe' | 'extreme';
export type Status = 'new' | 'acknowledged' | 'dispatched' | 'on_scene' | 'resolved' | 'closed' | 'cancelled';
export type Sector = 'safety' | 'transport' | 'disaster' | 'environment' | 'utilities';
export type CameraHealth = 'unknown' | 'online' | 'stale' | 'tampered' | 'offline';
export type SensorState = 'unknown' | 'ok' | 'alarm' | 'stale' | 'offline';
/** What may be done with an incident now (the URL path segment of each action). */
export type IncidentAction =
  | 'acknowledge' | 'assign' | 'dispatch' | 'on-scene' | 'resolve' | 'close' | 'reopen' | 'cancel' | 'note' | 'sop';

export interface Position {
  lat: number;
  lon: number;
}

export interface IncidentSummary {
  id: number;
  municipality: string;
  type: string;
  sector: Sector;
  severity: Severity;
  status: Status;
  title: string;
  title_local?: string | null;
  location: Position | null;
  rule_id: string | null;
  proposed_agency: string | null;
  assigned_agency: string | null;
  created_at: string;
  updated_at: string;
  acknowledged_at?: string | null;
  dispatched_at?: string | null;
  on_scene_at?: string | null;
  resolved_at?: string | null;
  closed_at?: string | null;
  event_count: number;
  /** Computed by the server (domain allowed_actions), in its fixed order. */
  actions: IncidentAction[];
}

export interface TimelineItem {
  at: string;
  kind: string;
  actor: string;
  text: string;
  from_status: Status | null;
  to_status: Status | null;
  data: Record<string, string>;
}

export interface CameraSeeing {
  camera_id: string;
  distance_m: number;
  bearing_deg: number;
}

export interface SopStep {
  id: string;
  text: string;
  text_local: string | null;
  agency: string | null;
  done: boolean;
  done_by: string | null;
  done_at: string | null;
}

export interface Sop {
  incident_type: string;
  title: string;
  title_local: string | null;
  steps: SopStep[];
}

export interface LinkedEvent {
  event_id: string;
  kind: string;
  source_id: string;
  ts: string;
  zone: string | null;
}

/** GET /m/{mid}/incidents/{id}/evidence: one camera event's snapshot and clip (F). */
export interface Evidence {
  event_id: string;
  camera_id: string;
  kind: string;
  ts: string;
  snapshot_url: string | null;
  clip_url: string | null;
  clip_start: string | null;
  clip_end: string | null;
  clip_ready: boolean;
}

export interface IncidentDetail extends IncidentSummary {
  timeline: TimelineItem[];
  cameras: CameraSeeing[];
  sop: Sop | null;
  events: LinkedEvent[];
}

export interface ThresholdLine {
  rule_id: string;
  op: 'above' | 'below' | string;
  value: number;
}

export interface Sensor {
  id: string;
  name: string;
  name_local: string | null;
  kind: string;
  unit: string;
  position: Position | null;
  valid_min: number | null;
  valid_max: number | null;
  value: number | null;
  ts: string | null;
  received_at: string | null;
  state: SensorState;
  thresholds: ThresholdLine[];
}

export interface Camera {
  id: string;
  name: string;
  name_local: string | null;
  position: Position | null;
  heading_deg: number;
  fov_deg: number;
  range_m: number;
  stream_url: string | null;
  zones: string[];
  has_video: boolean;
  health: CameraHealth;
  last_event_at: string | null;
}

export interface Agency {
  id: string;
  name: string;
  name_local: string | null;
  kind: string;
  phone: string | null;
  email: string | null;
}

export interface KeyObject {
  id: string;
  name: string;
  name_local: string | null;
  kind: string;
  position: Position | null;
  importance: Record<string, number | boolean | string>;
}

export interface ReadingPoint {
  ts: string;
  value: number | null;
  /** Raw: the value; rolled up (hour or day, response header X-Resolution): the extremes. */
  min?: number;
  max?: number;
  count?: number;
}

export interface Municipality {
  id: string;
  name: string;
  name_local: string | null;
  timezone: string;
  center: Position | null;
}

export interface ConsoleConfig {
  municipalities: Municipality[];
  tile_url: string | null;
  default_language: string | null;
}

export interface Overview {
  incidents_by_sector: Partial<Record<Sector, number>>;
  incidents_by_status: Partial<Record<Status, number>>;
  open_by_age: Record<string, number>;
  sensors_offline: number;
  cameras_offline: number;
  sensors_total: number;
  cameras_total: number;
}

/** GET /api/v1/health */
export interface Health {
  status: 'ok' | 'degraded';
  reasons?: string[];
  mqtt_connected?: boolean;
  ingest_backlog?: number | null;
  municipalities?: string[];
}

// --- live feed (GET /api/v1/m/{mid}/live, Server-Sent Events)

export type LiveKind = 'hello' | 'incident' | 'sensor' | 'camera' | 'resync' | 'detections' | 'warning' | 'person';

export interface HelloData {
  municipality: string;
  server_time: string;
}

export interface SensorUpdate {
  id: string;
  value?: number | null;
  ts?: string | null;
  state?: SensorState;
}

export interface CameraUpdate {
  id: string;
  health: CameraHealth;
}

export interface ResyncData {
  reason: string;
}

/** A live event after its data was checked: what the console applies to its state. */
export type LiveEvent =
  | { kind: 'hello'; data: HelloData }
  | { kind: 'incident'; data: IncidentSummary }
  | { kind: 'sensor'; data: SensorUpdate }
  | { kind: 'camera'; data: CameraUpdate }
  | { kind: 'resync'; data: ResyncData }
  | { kind: 'detections'; data: Detections }
  | { kind: 'person'; data: PersonPoint }
  | { kind: 'warning'; data: WarningChange };

/** One object a camera's analytics tracks; `box` is x1, y1, x2, y2 in fractions of the image. */
export interface DetectedObject {
  track: number | null;
  label: string;
  box: [number, number, number, number];
}

/** Live `detections`: what a camera's analytics sees now (about once a second). */
export interface Detections {
  id: string;
  ts: string;
  objects: DetectedObject[];
}

// --- the console's own state

export type View = 'ops' | 'wall' | 'overview' | 'audit' | 'persons';

// --- the signed-in account (GET /auth/me; B's block)

export interface MembershipInfo {
  municipality: string;
  role: 'admin' | 'supervisor' | 'operator' | 'liaison' | 'analyst' | 'auditor';
  agency: string | null;
  expires_at: string | null;
  unmasked_video: boolean;
  permissions: string[];
}

export interface Me {
  username: string;
  display_name: string;
  installation_admin: boolean;
  /** session (password), oidc (single sign-on) or token */
  via: string;
  /** Sent back in X-CSRF-Token on every write (null for a bearer token). */
  csrf: string | null;
  memberships: MembershipInfo[];
}

/** One record of GET /m/{mid}/audit (C's audit API), newest first. */
export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  municipality: string | null;
  target: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
}

/** GET /m/{mid}/retention (C's API, admins). */
export interface RetentionRun {
  started_at: string;
  finished_at: string;
  actor: string;
  ok: boolean;
  removed: Record<string, number>;
  cutoffs: Record<string, string | null>;
  error: string | null;
}

export interface RetentionView {
  days: Record<string, number | null>;
  interval_s: number;
  last_run: RetentionRun | null;
  runs: RetentionRun[];
}

/** GET /auth/oidc/providers: a "sign in with" button each. */
export interface SsoProvider {
  id: string;
  title: string | Record<string, string>;
}
export type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline';
export type DetailKind = 'incident' | 'camera' | 'sensor' | 'key_object';

export interface Filters {
  sector: Sector | '';
  /** 'open' (every open status), 'all', or one status. */
  status: Status | 'open' | 'all';
  /** '' every agency, '__none' unassigned, else an agency id. */
  agency: string;
}

export interface DetailRef {
  kind: DetailKind;
  id: string | number;
}

export interface State {
  config: ConsoleConfig | null;
  mid: string | null;
  municipality: Municipality | null;
  incidents: Map<number, IncidentSummary>;
  cameras: Map<string, Camera>;
  sensors: Map<string, Sensor>;
  keyObjects: Map<string, KeyObject>;
  agencies: Map<string, Agency>;
  filters: Filters;
  selectedId: number | null;
  detail: DetailRef | null;
  view: View;
  connection: Connection;
  health: Health | null;
  me: Me | null;
}

/** What the rest of the console may see of the state: reading only; writes go through state.js. */
export interface ReadonlyState {
  readonly config: Readonly<ConsoleConfig> | null;
  readonly mid: string | null;
  readonly municipality: Readonly<Municipality> | null;
  readonly incidents: ReadonlyMap<number, Readonly<IncidentSummary>>;
  readonly cameras: ReadonlyMap<string, Readonly<Camera>>;
  readonly sensors: ReadonlyMap<string, Readonly<Sensor>>;
  readonly keyObjects: ReadonlyMap<string, Readonly<KeyObject>>;
  readonly agencies: ReadonlyMap<string, Readonly<Agency>>;
  readonly filters: Readonly<Filters>;
  readonly selectedId: number | null;
  readonly detail: Readonly<DetailRef> | null;
  readonly view: View;
  readonly connection: Connection;
  readonly health: Readonly<Health> | null;
  readonly me: Readonly<Me> | null;
}

/** Events of the console's bus and what they carry. */
export interface BusEvents {
  incidents: { all?: boolean; ids?: number[]; added: number[] };
  sensors: { all?: boolean; ids?: string[]; readings?: { id: string; ts: string | null | undefined; value: number | null | undefined }[] };
  cameras: { all?: boolean; ids?: string[] };
  reference: undefined;
  filters: undefined;
  connection: Connection;
  health: Health | null;
  resync: undefined;
  select: number | null;
  'select-incident': number;
  'open-detail': { kind: DetailKind; id: string | number; fly?: boolean; focus?: boolean };
  'detail-opened': { kind: DetailKind; id: string | number; fly: boolean };
  'close-detail': undefined;
  'show-view': View;
  basemap: { ok: boolean };
  lang: string;
  session: Me | null;
  detections: Detections;
  warning: WarningChange;
  person: PersonPoint;
  'person-track': { person: number; incident: number | null };
}

// --- agency shares (S's API; U's console: js/details/shares.js, share.html + js/share/)

/** A share as GET /m/{mid}/incidents/{id}/shares lists it (ShareView). */
export interface ShareView {
  id: number;
  incident_id: number | null;
  agency: string;
  purpose: string;
  origin: 'operator' | 'auto' | 'request' | 'sos' | string;
  cameras: string[];
  lon: number;
  lat: number;
  radius_m: number;
  created_by?: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  status: 'active' | 'expired' | 'revoked';
}

/** POST .../shares: the new share and its link (the token is in the link only, once). */
export interface NewShareView extends ShareView {
  link: string;
}

export interface SharePurpose {
  id: string;
  label: string;
  label_local: string | null;
}

/** GET /m/{mid}/sharing: what an operator may choose. */
export interface SharingConfig {
  purposes: SharePurpose[];
  default_minutes: number;
  max_minutes: number;
  /** the radius a new share preselects, metres */
  radius_m?: number;
  /** the largest radius the server accepts (services/shares.RADIUS_MAX_M when absent) */
  max_radius_m?: number | null;
  agencies: (string | { id: string; name?: string | null; name_local?: string | null })[];
}

/** A shared camera as the recipient sees it. */
export interface SharedCamera {
  id: string;
  name: string;
  name_local?: string | null;
  lon: number;
  lat: number;
  heading: number;
  fov: number;
  range_m?: number;
}

/** POST/GET /api/v1/share-access: what a link opens. */
export interface ShareAccess {
  share: ShareView;
  incident: {
    title: string;
    title_local: string | null;
    type: string;
    severity: Severity;
    status: Status;
    lon: number | null;
    lat: number | null;
    created_at: string;
  } | null;
  cameras: SharedCamera[];
  expires_at: string;
  agency_name?: string | null;
  agency_name_local?: string | null;
  purpose_label?: string | null;
  purpose_label_local?: string | null;
}

/** GET /m/{mid}/incidents/{id}/deliveries (routes_dispatch.DeliveryView). */
export interface Delivery {
  id: number;
  agency: string;
  channel: 'webhook' | 'email';
  target: string;
  status: 'pending' | 'retrying' | 'sent' | 'failed';
  attempts: number;
  next_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
  acknowledged_at: string | null;
}

// --- public warnings (CAP 1.2; docs/CAP.md)

/** Live `warning`: a public warning opened, updated, cancelled, expired or left. */
export interface WarningChange {
  identifier: string;
  change: string;
  headline: string;
}

/** GET /m/{mid}/warnings (routes_warnings.WarningView): a warning in force here. */
export interface PublicWarning {
  sender: string;
  identifier: string;
  msg_type: string;
  status: string;
  sent: string;
  expires: string | null;
  event: string;
  severity: string;
  urgency: string;
  certainty: string;
  headline: string;
  lon: number;
  lat: number;
  replaces: string[];
  signature: string;
  polygons: [number, number][][];
  circles: { lon: number; lat: number; radius_m: number }[];
  /** Published by CityOps itself (from an incident). */
  own: boolean;
}

/** A CAP message's delivery to a configured endpoint (routes_warnings.DeliveryView). */
export interface CapDelivery {
  endpoint: string;
  kind: string;
  status: 'pending' | 'retrying' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
}

/** GET /m/{mid}/incidents/{id}/cap: CityOps's own CAP messages about the incident. */
export interface CapMessage {
  identifier: string;
  msg_type: 'Alert' | 'Update' | 'Cancel';
  status: string;
  sent: string;
  expires: string | null;
  headline: string;
  references: string[];
  in_force: boolean;
  url: string;
  deliveries: CapDelivery[];
}

// --- vulnerable people's SOS (V: js/map/persons.js, js/details/person.js)

/** Live `person`: one point of a person's track (no name, photo or contact). */
export interface PersonPoint {
  person_id: number;
  incident_id: number | null;
  kind: 'position' | 'sos' | string;
  ts: string;
  lon: number | null;
  lat: number | null;
  accuracy_m: number | null;
  inside: boolean | null;
}

/** GET /m/{mid}/persons/{id}/track: a point, oldest first. */
export interface TrackPoint {
  kind: 'position' | 'sos' | string;
  ts: string;
  lon: number | null;
  lat: number | null;
  accuracy_m: number | null;
  battery: number | null;
  inside: boolean | null;
}

/** GET /m/{mid}/incidents/{id}/person/track (audited): an episode's person and track. */
export interface EpisodeTrack {
  person_id: number;
  incident_id: number;
  points: TrackPoint[];
}

/** GET /m/{mid}/incidents/{id}/person (audited): the person of an SOS episode. */
export interface PersonView {
  id: number;
  kind: 'child' | 'dementia' | 'other';
  name: string;
  device_id: string;
  has_photo: boolean;
  safe_area: [number, number][];
  guardian_name: string;
  guardian_phone: string;
  notes: string;
  created_at: string | null;
  incident_id: number | null;
}
