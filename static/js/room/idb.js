// One IndexedDB object store keyed by "key": opened once, used one transaction at a time.
// Shared by the upload queue (uploads.js) and the chunk journal (journal.js), each in its own
// database so neither ever needs a version upgrade that an open tab of older code would block.

function openDb(name, store) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(store, { keyPath: "key" });
    req.onsuccess = () => {
      req.result.onversionchange = () => req.result.close(); // never block a later version
      resolve(req.result);
    };
    req.onerror = () => reject(req.error);
  });
}

// Returns run(mode, fn): fn(objectStore) inside one transaction; resolves with the result of the
// request fn returns (if any) once the transaction has completed.
export function openStore(name, store) {
  const dbPromise = openDb(name, store);
  return (mode, fn) =>
    dbPromise.then(
      (db) =>
        new Promise((resolve, reject) => {
          const tx = db.transaction(store, mode);
          const result = fn(tx.objectStore(store));
          tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
          tx.onerror = () => reject(tx.error);
          tx.onabort = () => reject(tx.error);
        }),
    );
}
