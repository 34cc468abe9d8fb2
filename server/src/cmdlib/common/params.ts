// The master's side of the parameter tables in @ganeti-ts/schema
// (hvparams.ts): the same checks, raising the error class Ganeti raises for
// each kind (ForceDictType -> TypeEnforcementError, CheckParameterSyntax ->
// HypervisorError, ranges and names -> OpPrereqError wrong_input).
import {
  checkBeParamRanges,
  InvalidNameError,
  ParamError,
  validateBeParams,
  validateHvParams,
} from "@ganeti-ts/schema";
import { HypervisorError, OpPrereqError, TypeEnforcementError, type GanetiError } from "../../lib/errors.js";

type Params = Record<string, unknown>;

/** A schema-side ParamError or InvalidNameError as Ganeti's error; anything else unchanged. */
export function asGanetiError(err: unknown): unknown {
  if (err instanceof ParamError) {
    const e: GanetiError =
      err.kind === "type"
        ? new TypeEnforcementError(err.message, { cause: err })
        : err.kind === "syntax"
          ? new HypervisorError(err.message, { cause: err })
          : new OpPrereqError(err.message, "wrong_input", { cause: err });
    return e;
  }
  if (err instanceof InvalidNameError) return new OpPrereqError(err.message, "wrong_input", { cause: err });
  return err;
}

/** Run a schema-side check, raising Ganeti's error class on failure. */
export function ganetiCheck<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw asGanetiError(err);
  }
}

/** ForceDictType + CheckParameterSyntax of one hypervisor's parameters. */
export function checkHvParams(hypervisor: string, params: Params, opts: { partial: boolean }): Params {
  return ganetiCheck(() => validateHvParams(hypervisor, params, opts));
}

/** ForceDictType over the backend parameters ("default" kept when allowDefault). */
export function checkBeParamTypes(params: Params, opts: { allowDefault?: boolean } = {}): Params {
  return ganetiCheck(() => validateBeParams(params, opts));
}

/** vcpus >= 1, spindle_use >= 0, minmem <= maxmem on filled beparams. */
export function checkBeRanges(filled: Params): void {
  ganetiCheck(() => checkBeParamRanges(filled));
}
