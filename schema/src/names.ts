// Rules for the names clients give to objects, shared by the master (which
// enforces them when a job runs), the SDK and the provider (which can check
// input before sending it). Each rule is a plain function throwing
// InvalidNameError (ECODE wrong_input) plus a zod schema doing the same.
//
// - Instance and node names are host names: Ganeti's
//   netutils.Hostname.GetNormalizedName (lower-cased; 1-255 characters of
//   a-z 0-9 . _ -; no empty label; one trailing dot dropped). Message:
//   "Invalid hostname '<lower-cased name>'".
// - Group and network names: Ganeti only requires a non-empty string. Names
//   that cannot be used in a RAPI path or a file name are refused here:
//   1-255 printable ASCII characters without white space or "/", and not
//   "." or "..". Case is kept.
// - OS names ("name" or "name+variant"): letters, digits and . _ + - only,
//   1-255 characters, not starting with "." (so never "." or "..").
// - Filter rule ids: Ganeti's UUID syntax (lower-case hex 8-4-4-4-12).
// - Tags: Ganeti's TaggableObject.ValidateTag (TAG_REGEX, MAX_TAG_LEN in
//   common.ts).
import { z } from "zod";

/** A name that breaks a rule; `code` is the Ganeti ECODE of the failure. */
export class InvalidNameError extends Error {
  readonly code = "wrong_input" as const;
  constructor(message: string) {
    super(message);
    this.name = "InvalidNameError";
  }
}

export const MAX_NAME_LEN = 255;

// Python's `$` also matches before a final newline; this one does not, so a
// name ending in "\n" is refused rather than stored.
const HOSTNAME_RE = /^[a-z0-9._-]{1,255}$/;

/** Ganeti's Hostname.GetNormalizedName: the name to store, or InvalidNameError. */
export function normalizeHostname(name: string): string {
  const lower = name.toLowerCase();
  if (!HOSTNAME_RE.test(lower) || lower.includes("..") || lower.startsWith(".")) throw new InvalidNameError(`Invalid hostname '${lower}'`);
  return lower.replace(/\.+$/, "");
}

export function isValidHostname(name: string): boolean {
  try {
    return normalizeHostname(name) !== "";
  } catch (err) {
    if (err instanceof InvalidNameError) return false;
    throw err;
  }
}

const OBJECT_NAME_RE = /^[\x21-\x2e\x30-\x7e]{1,255}$/;

/** Group and network names (see the header); `kind` names the object in the message. */
export function checkObjectName(kind: "group" | "network", name: string): string {
  if (!OBJECT_NAME_RE.test(name) || name === "." || name === "..") throw new InvalidNameError(`Invalid ${kind} name '${name}'`);
  return name;
}

const OS_NAME_RE = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,254}$/;

/** OS names as given to create, modify and reinstall. */
export function checkOsName(name: string): string {
  if (!OS_NAME_RE.test(name)) throw new InvalidNameError(`Invalid OS name '${name}'`);
  return name;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ganeti's isUUID (lower-case hex only). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** An instance or node name, normalised as the master stores it. */
export const HostnameSchema = z
  .string()
  .refine(isValidHostname, { message: "Invalid hostname" })
  .transform((s) => normalizeHostname(s));

/**
 * An instance or node name exactly as the master would store it (already
 * lower-case, no trailing dot): for declarative inputs, where a name the
 * master changes would never match what is read back.
 */
export const NormalizedHostnameSchema = z.string().refine((s) => isValidHostname(s) && normalizeHostname(s) === s, {
  message: "Invalid hostname (lower-case a-z 0-9 . _ -, 1-255 characters)",
});

const validObjectName = (s: string) => OBJECT_NAME_RE.test(s) && s !== "." && s !== "..";
export const GroupNameSchema = z.string().refine(validObjectName, { message: "Invalid group name" });
export const NetworkNameSchema = z.string().refine(validObjectName, { message: "Invalid network name" });
export const OsNameSchema = z.string().regex(OS_NAME_RE, { message: "Invalid OS name" });
export const FilterUuidSchema = z.string().regex(UUID_RE, { message: "Unable to parse UUID" });
