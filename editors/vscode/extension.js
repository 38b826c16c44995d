// Starts `flake8-peft-names server` for Python files and the Python cells of Jupyter notebooks.
const { workspace } = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = workspace.getConfiguration("flake8-peft-names").get("command");
  client = new LanguageClient(
    "flake8-peft-names",
    "flake8-peft-names",
    { command, args },
    {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "untitled", language: "python" },
        { notebook: "jupyter-notebook", language: "python" },
      ],
      synchronize: { fileEvents: workspace.createFileSystemWatcher("**/{setup.cfg,tox.ini,.flake8}") },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
