// One file per request with XMLHttpRequest: fetch cannot report upload progress, and one file
// per request means one refused file does not take the others down with it.
import { ApiError, toApiError } from "../api/errors";

export interface Accepted {
  jobs: { id: string; filename: string; status: string }[];
}

export interface UploadOptions {
  url: string;
  file: File;
  token: string | null;
  onProgress: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

/** Sends one file as multipart `files`; resolves with the accepted jobs, rejects with ApiError. */
export function uploadFile({ url, file, token, onProgress, signal }: UploadOptions): Promise<Accepted> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onload = () => {
      if (xhr.status === 202) resolve(xhr.response as Accepted);
      else reject(toApiError(xhr.status, xhr.response));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload was interrupted (network error)"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "the upload was cancelled"));
    signal?.addEventListener("abort", () => xhr.abort());
    const form = new FormData();
    form.append("files", file, file.name);
    xhr.send(form);
  });
}
