import { z } from "zod";

/** `GET /2/os`: OS names, `name+variant` for OSes with variants. */
export const OsListSchema = z.array(z.string());
export type OsList = z.infer<typeof OsListSchema>;
