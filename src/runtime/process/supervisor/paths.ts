/** Files of the runtime supervisor inside its state directory (`<root-dir>/process-runtime`). */
export const SUPERVISOR_SOCKET = 'supervisor.sock';
export const SUPERVISOR_PID_FILE = 'supervisor.pid';
export const SUPERVISOR_LOG = 'supervisor.log';
/** The state directory under `--root-dir`. */
export const PROCESS_RUNTIME_DIR = 'process-runtime';
