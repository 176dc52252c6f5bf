/**
 * The TraCI server of `tessds-sumo --remote-port`: waits for `--num-clients` connections (SUMO
 * does), then answers their messages; a step runs when every client still connected has asked for
 * one (SUMO's multi-client rule), clients being answered in their setOrder order. The server ends
 * when the last client has closed or gone.
 *
 * No byte from a socket crashes or hangs the process: a message whose framing is broken or that is
 * too large closes that one connection with a line on stderr; bad commands inside a well-framed
 * message get TraCI's error status (session.ts).
 */
import net from 'node:net';
import { TraciClient, type TraciSession } from './session.js';
import { WireError, frameMessage, takeMessage } from './wire.js';

export interface TraciServerOptions {
  port: number;
  /** default 127.0.0.1: TraCI has no authentication */
  host?: string;
  numClients: number;
  /** a line for the user (a client's bad message, a lost client) */
  warn: (line: string) => void;
  /** called once the server listens, with its port */
  onListening?: (port: number) => void;
}

interface Connection {
  client: TraciClient;
  socket: net.Socket;
  name: string;
  buffered: Buffer;
  /** the rest of a message after its simulationStep, answered after the step */
  rest: Buffer | undefined;
}

/** Serves TraCI on `session` until every client has closed; resolves with it (its command log). */
export function serveTraci(session: TraciSession, o: TraciServerOptions): Promise<TraciSession> {
  const conns: Connection[] = [];
  let accepted = 0;
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true });
    const finish = () => {
      server.close();
      resolve(session);
    };
    const live = () => conns.filter((c) => !c.client.closed);

    const drop = (c: Connection, why?: string) => {
      if (c.client.closed) return;
      c.client.closed = true;
      if (why) o.warn(`TraCI client ${c.name}: ${why}; connection closed`);
      c.socket.destroy();
      afterChange();
    };

    const send = (c: Connection, body: Buffer) => {
      if (!c.client.closed || body.length > 0) c.socket.write(frameMessage(body));
    };

    /** Answers every complete message buffered from `c` (none while it waits for a step). */
    const pump = (c: Connection) => {
      while (!c.client.closed && c.client.stepTarget === undefined && accepted >= o.numClients) {
        let m;
        try {
          m = takeMessage(c.buffered);
        } catch (e) {
          if (e instanceof WireError) return drop(c, `bad message (${e.message})`);
          throw e;
        }
        if (!m) return;
        c.buffered = c.buffered.subarray(m.size);
        // one message at a time: its step may have to wait for the other clients
        if (!answer(c, m.body)) return;
      }
    };

    /** Answers one message; false when the connection ended. */
    const answer = (c: Connection, body: Buffer): boolean => {
      let r;
      try {
        r = session.handle(body, c.client);
      } catch (e) {
        if (e instanceof WireError) {
          drop(c, `bad message (${e.message})`);
          return false;
        }
        throw e;
      }
      if (r.reply) {
        send(c, r.reply);
        if (c.client.closed) {
          c.socket.end();
          afterChange();
          return false;
        }
      } else {
        c.rest = r.rest;
        advance();
      }
      return true;
    };

    /** Steps while every connected client waits for a step; answers those whose target is reached. */
    const advance = () => {
      for (;;) {
        const clients = live();
        if (clients.length === 0 || clients.some((c) => c.client.stepTarget === undefined)) return;
        session.step();
        const done = clients.filter((c) => session.reached(c.client)).sort((a, b) => a.client.order - b.client.order);
        for (const c of done) {
          let reply = session.stepReply(c.client);
          if (c.rest) {
            const more = session.handle(c.rest, c.client);
            c.rest = undefined;
            if (more.reply) reply = Buffer.concat([reply, more.reply]);
          }
          send(c, reply);
        }
        if (done.length > 0) {
          for (const c of done) setImmediate(() => pump(c));
          return;
        }
      }
    };

    const afterChange = () => {
      if (accepted >= o.numClients && live().length === 0) return finish();
      advance();
    };

    server.on('connection', (socket) => {
      if (accepted >= o.numClients) {
        socket.destroy();
        return;
      }
      accepted++;
      socket.setNoDelay(true);
      const c: Connection = {
        client: new TraciClient(),
        socket,
        name: `${socket.remoteAddress}:${socket.remotePort}`,
        buffered: Buffer.alloc(0),
        rest: undefined,
      };
      conns.push(c);
      socket.on('data', (chunk: Buffer) => {
        if (c.client.closed) return;
        c.buffered = c.buffered.length ? Buffer.concat([c.buffered, chunk]) : chunk;
        try {
          pump(c);
        } catch (e) {
          reject(e);
        }
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        if (!c.client.closed) drop(c, 'went away without close()');
      });
      // SUMO answers nobody before every client is there
      if (accepted === o.numClients) for (const x of conns) pump(x);
    });
    server.on('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => {
      const addr = server.address();
      o.onListening?.(typeof addr === 'object' && addr ? addr.port : o.port);
    });
  });
}
