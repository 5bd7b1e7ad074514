/**
 * pgsession in NestJS, the same on Express and Fastify: the session type, a guard, a
 * parameter decorator and an exception filter. No Nest adapter of pgsession's is needed:
 * `pgsession/express` (`app.use`) or `pgsession/fastify` (`app.register`) puts the session
 * on the platform's request, where these read it.
 */
import {
  Catch,
  createParamDecorator,
  Inject,
  Injectable,
  UnauthorizedException,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
} from "@nestjs/common";
import { HttpAdapterHost } from "@nestjs/core";
import { STATUS_CODES } from "node:http";
import { SessionConflictError, SessionGoneError, SessionStoreError, type RegisteredSessionData, type Session } from "pgsession";
import type { ExampleData } from "../shared.js";

// The app's session data, registered once: every session below is typed by it.
declare module "pgsession" {
  interface Register {
    data: ExampleData;
  }
}

/** The request's session: pgsession's, with the data registered in `Register`. */
export type AppSession = Session<RegisteredSessionData>;

// Express's `req` and Fastify's `request` both hold it at `.session`.
function sessionOf(context: ExecutionContext): AppSession {
  return context.switchToHttp().getRequest<{ session: AppSession }>().session;
}

/** Lets signed-in sessions through; answers 401 otherwise (a guard returning false would answer 403). */
@Injectable()
export class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (sessionOf(context).isAuthenticated) return true;
    throw new UnauthorizedException("Sign in first.");
  }
}

/** A handler's parameter holding the request's session: `@CurrentSession() session: AppSession`. */
export const CurrentSession = createParamDecorator((_data: unknown, context: ExecutionContext): AppSession => sessionOf(context));

/**
 * Answers pgsession's errors thrown in handlers (a `login()` or `logout()` the database
 * refused) with their `statusCode`, 503 or 409, as Express's and Fastify's own error
 * handlers do. Nest's default filter knows only its `HttpException`s and answers any other
 * error 500. Failures while the session is read or committed never reach Nest: the
 * middleware or plugin answers them itself.
 */
@Catch(SessionStoreError, SessionGoneError, SessionConflictError)
export class SessionErrorFilter implements ExceptionFilter {
  // @Inject names the dependency: tsx (esbuild) emits no decorator metadata to infer it from.
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  catch(err: SessionStoreError | SessionGoneError | SessionConflictError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    if (httpAdapter.isHeadersSent(response)) return httpAdapter.end(response);
    httpAdapter.setHeader(response, "Cache-Control", "no-store");
    if (err.statusCode === 503) httpAdapter.setHeader(response, "Retry-After", "5");
    httpAdapter.reply(response, { statusCode: err.statusCode, message: STATUS_CODES[err.statusCode] }, err.statusCode);
  }
}
