# One image for the API and every worker; the command picks the role.
FROM node:20.19-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN node --import tsx scripts/prisma-generate.ts
USER node
CMD ["node", "--import", "tsx", "api/server.ts"]
