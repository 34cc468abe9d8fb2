// Every 200 response recorded from Ganeti 3.0.2 parses with our object schemas.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as S from "@ganeti-ts/schema";
import { allCaptures, type CaptureSet } from "./helpers/captures.js";

function schemaFor(path: string, bulk: boolean): z.ZodType | null {
  if (path === "/2/info") return S.ClusterInfoSchema;
  if (path === "/2/features") return S.FeatureListSchema;
  if (path === "/2/os") return S.OsListSchema;
  if (path === "/2/instances") return z.array(bulk ? S.InstanceInfoSchema : S.InstanceListItemSchema);
  if (/^\/2\/instances\/[^/]+$/.test(path)) return S.InstanceInfoSchema;
  if (/^\/2\/instances\/[^/]+\/console$/.test(path)) return S.InstanceConsoleSchema;
  if (path === "/2/nodes") return z.array(bulk ? S.NodeInfoSchema : S.NodeListItemSchema);
  if (/^\/2\/nodes\/[^/]+$/.test(path)) return S.NodeInfoSchema;
  if (/^\/2\/nodes\/[^/]+\/role$/.test(path)) return S.NodeRoleSchema;
  if (path === "/2/groups") return z.array(bulk ? S.GroupInfoSchema : S.GroupListItemSchema);
  if (/^\/2\/groups\/[^/]+$/.test(path)) return S.GroupInfoSchema;
  if (path === "/2/networks") return z.array(bulk ? S.NetworkInfoSchema : S.NetworkListItemSchema);
  if (/^\/2\/networks\/[^/]+$/.test(path)) return S.NetworkInfoSchema;
  if (path === "/2/jobs") return z.array(bulk ? S.JobBulkItemSchema : S.JobListItemSchema);
  if (/^\/2\/jobs\/\d+$/.test(path)) return S.JobInfoSchema;
  if (/^\/2\/jobs\/\d+\/wait$/.test(path)) return S.JobWaitResultSchema;
  if (/^\/2\/query\/\w+$/.test(path)) return S.QueryResultSchema;
  if (/^\/2\/query\/\w+\/fields$/.test(path)) return S.QueryFieldsResultSchema;
  if (path === "/2/filters") return z.array(bulk ? S.FilterInfoSchema : S.FilterListItemSchema);
  if (/\/tags$/.test(path)) return S.TagListSchema;
  return null;
}

for (const set of ["captures", "captures-3node"] as CaptureSet[]) {
  describe(`schemas accept every 200 read in ${set}`, () => {
    it("parses", () => {
      let n = 0;
      const failures: string[] = [];
      for (const c of allCaptures(set)) {
        if (c.status !== 200 || (c.method !== "GET" && !c.path.startsWith("/2/query"))) continue;
        const bulk = c.query.some(([k, v]) => k === "bulk" && String(v) === "1");
        const s = schemaFor(c.path, bulk);
        if (!s) continue;
        n++;
        const r = s.safeParse(c.response_body);
        if (!r.success) failures.push(`${c.seq} ${c.path}: ${r.error.issues[0]?.message}`);
      }
      expect(failures).toEqual([]);
      expect(n).toBeGreaterThan(300);
    });
  });
}
