/**
 * The NestJS example's one module, the same on Express and Fastify: a JSON API with a
 * counter, login, logout and a route only signed-in sessions may call.
 */
import { Body, Controller, Get, HttpCode, Module, Post, UseGuards } from "@nestjs/common";
import { APP_FILTER } from "@nestjs/core";
import { count, loginName } from "../shared.js";
import { CurrentSession, SessionErrorFilter, SessionGuard, type AppSession } from "./session.js";

@Controller()
export class AppController {
  /** Reads the counter: no cookie and no write for a visitor who stored nothing. */
  @Get("counter")
  counter(@CurrentSession() session: AppSession) {
    return { visits: session.get("visits") ?? 0 };
  }

  @Post("counter")
  @HttpCode(200)
  increment(@CurrentSession() session: AppSession) {
    count(session);
    return { visits: session.get("visits") };
  }

  /** Signs in: the session gets a new token (the cookie rotates). */
  @Post("login")
  @HttpCode(200)
  async login(@CurrentSession() session: AppSession, @Body() body: { name?: unknown } | undefined) {
    await session.login(loginName(body?.name));
    return { user: session.userId };
  }

  @Post("logout")
  @HttpCode(200)
  async logout(@CurrentSession() session: AppSession) {
    await session.logout();
    return { user: null };
  }

  @Get("me")
  @UseGuards(SessionGuard)
  me(@CurrentSession() session: AppSession) {
    return { user: session.userId, visits: session.get("visits") ?? 0 };
  }
}

@Module({
  controllers: [AppController],
  providers: [{ provide: APP_FILTER, useClass: SessionErrorFilter }],
})
export class AppModule {}
