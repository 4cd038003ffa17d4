// Request/reply over a forked child's IPC channel, shared by the benchmarks that fork viewers.

/** Sends `message` to `child` and resolves with its first answer of type `reply`. */
export function request(child, message, reply) {
  return new Promise((resolve) => {
    const onMessage = (answer) => {
      if (answer.type !== reply) return;
      child.off('message', onMessage);
      resolve(answer);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** Asks the viewers' process to close its viewers and exit; kills it if it does not within 5 s. */
export async function stopViewers(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
