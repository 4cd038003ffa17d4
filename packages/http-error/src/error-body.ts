import { z } from 'zod';

/**
 * Every error answer's body, datarhei Core's `api.Error`: `code` repeats the HTTP status, `message`
 * is one line written for the client, `details` are further lines (a machine-readable code first,
 * where the error has one).
 */
export const errorBodySchema = z.object({
  code: z.number().int(),
  message: z.string(),
  details: z.array(z.string()),
});

/** An error answer's body, {@link errorBodySchema}. */
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** The body for `status`, `message` and `details`. */
export function errorBody(status: number, message: string, details: readonly string[] = []): ErrorBody {
  return { code: status, message, details: [...details] };
}
