// The generic handler for opcode-backed endpoints: Ganeti's
// OpcodeResource._GenericHandler + baserlib.FillOpcode, driven by the
// endpoint table's OpcodeMapping.
import {
  formatInvalidBodyParameters,
  pyReprString,
  validateOpcodeParams,
  type OpcodeId,
  type OpcodeMapping,
  type StaticSource,
} from "@ganeti-ts/schema";
import { RapiHttpError, badRequest, checkType } from "./errors.js";
import { flagArg, reasonTrail, stringArg, type RapiRequest, type RapiServices } from "./context.js";

function staticValue(req: RapiRequest, src: StaticSource): unknown {
  switch (src.from) {
    case "path": {
      const v = req.params[src.param] ?? "";
      const x = src.int ? Number(v) : v;
      return src.list ? [x] : x;
    }
    case "flag":
      return flagArg(req, src.query, src.default ?? 0);
    case "string":
      return stringArg(req, src.query, src.default);
    case "list":
      return [...(req.query.get(src.query) ?? [])];
    case "const":
      return structuredClone(src.value);
  }
}

/** _ConvertUsbDevices: spaces in hvparams.usb_devices become commas. */
export function convertUsbDevices(data: Record<string, unknown>): void {
  const hv = data["hvparams"];
  if (hv && typeof hv === "object" && !Array.isArray(hv)) {
    const usb = (hv as Record<string, unknown>)["usb_devices"];
    if (typeof usb === "string") (hv as Record<string, unknown>)["usb_devices"] = usb.replace(/ /g, ",");
  }
}

/** InspectParams: 403 for forbidden parameters in the query string or the body. */
function inspectForbidden(req: RapiRequest, mapping: OpcodeMapping): void {
  if (!mapping.forbidden) return;
  const forbidden = new Set(mapping.forbidden);
  const check = (keys: Iterable<string>) => {
    for (const k of keys) {
      const name = (mapping.renames && Object.hasOwn(mapping.renames, k) ? mapping.renames[k] : undefined) ?? k;
      if (forbidden.has(name)) throw new RapiHttpError(403, `The parameter ${name} cannot be set via RAPI`);
    }
  };
  check(req.query.keys());
  if (req.body && typeof req.body === "object" && !Array.isArray(req.body)) check(Object.keys(req.body));
}

/**
 * FillOpcode: body (a dict or null) + renames + static parameters, then the
 * opcode's own validation. Returns the opcode dict ready to submit.
 */
export function fillOpcode(
  opId: OpcodeId,
  body: unknown,
  statics: Record<string, unknown>,
  renames?: Record<string, string>,
): Record<string, unknown> & { OP_ID: string } {
  let params: Record<string, unknown> = {};
  if (body !== null && body !== undefined) {
    checkType(body, "dict", "Body contents");
    params = { ...(body as Record<string, unknown>) };
  }
  for (const [old, neu] of Object.entries(renames ?? {})) {
    if (old in params && neu in params) throw badRequest(`Parameter '${old}' was renamed to '${neu}', but both are specified`);
    if (old in params) {
      params[neu] = params[old];
      delete params[old];
    }
  }
  const overwritten = Object.keys(params)
    .filter((k) => Object.hasOwn(statics, k))
    .sort();
  if (overwritten.length > 0) {
    throw badRequest(`Can't overwrite static parameters {${overwritten.map(pyReprString).join(", ")}}`);
  }
  Object.assign(params, statics);
  const res = validateOpcodeParams(opId, params);
  if (!res.ok) throw badRequest(formatInvalidBodyParameters(res));
  return { ...(res.op as Record<string, unknown>), OP_ID: opId };
}

function staticsOf(req: RapiRequest, svc: RapiServices, mapping: OpcodeMapping): Record<string, unknown> {
  const statics: Record<string, unknown> = {};
  for (const [k, src] of Object.entries(mapping.static)) statics[k] = staticValue(req, src);
  statics["reason"] = reasonTrail(req, svc);
  return statics;
}

export async function opcodeHandler(req: RapiRequest, svc: RapiServices): Promise<number> {
  const mapping = req.endpoint.opcode;
  if (!mapping) throw new Error(`endpoint ${req.endpoint.method} ${req.endpoint.path} has no opcode mapping`);
  inspectForbidden(req, mapping);
  const statics = staticsOf(req, svc, mapping);
  let body: unknown = mapping.body === "ignored" ? null : req.body;
  if (mapping.convertUsbDevices && body && typeof body === "object" && !Array.isArray(body)) {
    body = structuredClone(body);
    convertUsbDevices(body as Record<string, unknown>);
  }
  const op = fillOpcode(mapping.opId, body, statics, mapping.renames);
  return svc.queue.submit([op]);
}
