FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The sources are not copied yet, so the package's own prepare (building the CLI) cannot run here; the
# build below builds every app. No dependency needs its install script on this image.
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
# A young generation of 64 MB semi-spaces, as `npm start` (docs/operations.md, "Node's young generation").
CMD ["node", "--max-semi-space-size=64", "dist/apps/ledger/src/main.js"]
