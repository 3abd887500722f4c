/**
 * Security headers; the Content-Security-Policy allows no inline script and no other origin.
 * @see https://github.com/fastify/fastify-helmet
 */
import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

export default fp(
  async (app) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          // the emoji picker (a web component) lays out its grid with style attributes; style
          // elements and sheets still come from this origin only
          styleSrcAttr: ["'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      // served over plain HTTP as often as not (localhost, behind a proxy): no HSTS from here
      strictTransportSecurity: false,
    });
  },
  { name: 'security' },
);
