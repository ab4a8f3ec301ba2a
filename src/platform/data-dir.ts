// Names of the files Custos keeps in its data dir (shared by the server and the CLI without loading either).
export const BOOTSTRAP_TOKEN_FILE = 'bootstrap-admin.token';
export const MASTER_KEY_FILE_NAME = 'master.key';
