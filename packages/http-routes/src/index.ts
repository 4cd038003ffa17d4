/**
 * Hono routes declared once with their zod schemas: each registered from its declaration, the
 * declarations handed to the app that mounts them, which documents every route it serves.
 * @packageDocumentation
 */
export {
  type Answer,
  DeclaredRoutes,
  errorAnswer,
  honoPath,
  jsonAnswer,
  type Media,
  type Method,
  mediaAnswer,
  type Named,
  named,
  noContent,
  okAnswer,
  type RouteDeclaration,
} from './declared-routes.js';
